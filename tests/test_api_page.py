"""The API reference page (book/api.md) documents every public name of deployment_modes.

The source check always runs; the built-page check needs a book built after the last change to the
package's exports (skipped otherwise, a failure under REQUIRE_BROWSER=1 as in .ci/run).
"""

from __future__ import annotations

import inspect
import os
import re
import types
from pathlib import Path

import pytest

import deployment_modes as dm

ROOT = Path(__file__).resolve().parents[1]
API_SOURCE = ROOT / "book" / "api.md"
API_HTML = ROOT / "_build" / "html" / "book" / "api.html"
MODULES = [n for n in dm.__all__ if isinstance(getattr(dm, n), types.ModuleType)]
OBJECTS = [n for n in dm.__all__ if n not in MODULES]


def test_every_public_name_exists():
    missing = [n for n in dm.__all__ if not hasattr(dm, n)]
    assert not missing, f"deployment_modes.__all__ lists names the package lacks: {missing}"


def test_every_exported_module_gets_a_section():
    text = API_SOURCE.read_text()
    automatic = "```{package-modules} deployment_modes\n" in text  # book/_assets/book_site.py
    missing = [n for n in MODULES if not automatic and f".. automodule:: deployment_modes.{n}\n" not in text]
    assert not missing, f"book/api.md has no section for the modules {missing}"


def test_the_package_block_documents_its_members():
    text = API_SOURCE.read_text()
    block = re.search(r"\.\. automodule:: deployment_modes\n((?:   :.*\n)*)", text)
    assert block and ":members:" in block.group(1), "book/api.md must document deployment_modes with :members:"
    assert ":exclude-members:" not in block.group(1)


@pytest.mark.parametrize("name", OBJECTS)
def test_every_public_object_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(getattr(dm, name)) or ""
    assert ">>>" in doc, f"deployment_modes.{name} needs a docstring with a runnable example (a doctest)"


def _built_api_page() -> str:
    stale = not API_HTML.is_file() or API_HTML.stat().st_mtime < (ROOT / "deployment_modes" / "__init__.py").stat().st_mtime
    if stale:
        reason = f"{API_HTML} missing or older than deployment_modes/__init__.py: run python3 dev.py book"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return API_HTML.read_text(encoding="utf-8")


def test_every_public_name_appears_in_the_built_api_page():
    html = _built_api_page()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = [n for n in OBJECTS if f"deployment_modes.{n}" not in ids]
    missing += [n for n in MODULES if f"module-deployment_modes.{n}" not in ids]
    assert not missing, f"public names missing from the built API page: {missing}"
