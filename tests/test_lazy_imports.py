"""``import deployment_modes`` loads nothing heavy; each public name loads its module on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import deployment_modes as dm

HEAVY = ["pandas", "pyarrow", "sklearn", "river", "scipy", "matplotlib", "ipywidgets"]


def run(code: str) -> None:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_importing_the_package_loads_no_library_and_a_name_loads_only_what_it_needs():
    run(
        "import sys, deployment_modes as dm\n"
        f"loaded = [n for n in {HEAVY!r} if n in sys.modules]\n"
        "assert not loaded, loaded\n"
        "dm.OnlineDeployment\n"
        "assert 'river' in sys.modules and 'matplotlib' not in sys.modules\n"
    )


@pytest.mark.parametrize("name", dm.__all__)
def test_every_public_name_is_reached_as_an_attribute_and_by_from_import(name):
    value = getattr(dm, name)
    namespace: dict = {}
    exec(f"from deployment_modes import {name}", namespace)
    assert namespace[name] is value and name in dir(dm)


def test_an_unknown_name_is_an_attribute_error_that_names_it():
    with pytest.raises(AttributeError, match="no attribute 'OnlineDeploymnet'"):
        getattr(dm, "OnlineDeploymnet")  # noqa: B009  (a typo, as a user makes it)
    with pytest.raises(ImportError, match="OnlineDeploymnet"):
        exec("from deployment_modes import OnlineDeploymnet", {})


def test_a_process_that_starts_and_probes_servers_loads_no_web_framework():
    # the chapter's kernel uses serve.start, serve.Probe and serve.downtime; FastAPI and uvicorn
    # are loaded by the server process alone, and an online server's state by river alone
    run(
        "import sys, tempfile\n"
        "from deployment_modes import serve\n"
        "from deployment_modes.durable import DurableDeployment\n"
        "DurableDeployment(tempfile.mkdtemp(), 'online').close()\n"
        "loaded = [n for n in ('fastapi', 'starlette', 'uvicorn', 'pydantic') if n in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'sklearn.linear_model' not in sys.modules\n"
    )


def test_the_lean_linear_models_load_no_nearest_neighbours():
    # sklearn.neighbors takes ~0.1 s to import; only the late-labels chapter's regressor needs it
    run(
        "import sys\n"
        "from deployment_modes import comparison, lean\n"
        "assert 'sklearn.neighbors' not in sys.modules\n"
        "from deployment_modes import LeanKNeighborsRegressor\n"
        "assert 'sklearn.neighbors' in sys.modules\n"
    )
