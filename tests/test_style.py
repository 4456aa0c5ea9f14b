"""The code style is checked by ruff (configured in pyproject.toml): the package, tests,
benchmarks, assignments' scripts, dev.py and the notebooks' code cells."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def ruff(*args: str) -> subprocess.CompletedProcess:
    if RUFF is None:
        pytest.fail(
            "ruff is not installed: it comes with the test extra (pip install -e '.[test]')"
        )
    return subprocess.run([RUFF, *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_no_problem():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = ruff("format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
