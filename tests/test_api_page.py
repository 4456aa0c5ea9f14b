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
    missing = [
        n
        for n in MODULES
        if not automatic and f".. automodule:: deployment_modes.{n}\n" not in text
    ]
    assert not missing, f"book/api.md has no section for the modules {missing}"


def test_the_package_block_documents_its_members():
    text = API_SOURCE.read_text()
    block = re.search(r"\.\. automodule:: deployment_modes\n((?:   :.*\n)*)", text)
    assert block and ":members:" in block.group(1), (
        "book/api.md must document deployment_modes with :members:"
    )
    assert ":exclude-members:" not in block.group(1)


@pytest.mark.parametrize("name", OBJECTS)
def test_every_public_object_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(getattr(dm, name)) or ""
    assert ">>>" in doc, (
        f"deployment_modes.{name} needs a docstring with a runnable example (a doctest)"
    )


def _public_objects():
    """Every public class and function of the package and its modules (their ``__all__``)."""
    import importlib
    import pkgutil

    seen = {}
    for info in pkgutil.iter_modules(dm.__path__):
        if info.name.startswith("_") or info.name in ("serve", "durable"):  # the server's own pages
            continue
        module = importlib.import_module(f"deployment_modes.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj) or inspect.isfunction(obj)
            ) and obj.__module__ == module.__name__:
                seen[f"{module.__name__}.{name}"] = obj
    return seen


PUBLIC = _public_objects()


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_object_documents_its_parameters_in_numpydoc(name):
    """A Parameters section (numpydoc, as the API page renders it through napoleon) for every argument."""
    docutils = pytest.importorskip("docutils.core")
    from docutils.parsers.rst import roles
    from sphinx.ext.napoleon import Config
    from sphinx.ext.napoleon.docstring import NumpyDocstring

    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        params = [p for p in inspect.signature(target).parameters if p not in ("self", "cls")]
    except (TypeError, ValueError):
        params = []
    if getattr(obj, "_is_protocol", False):  # a Protocol documents its attributes
        params = []
    if params and not (inspect.isclass(obj) and target is object.__init__):
        assert "Parameters\n----------" in doc, f"{name} has no numpydoc Parameters section"
        documented = re.findall(
            r"^(\**[\w, *]+)$", doc.split("Parameters\n----------")[1].split("\n\n\n")[0], re.M
        )
        names = {n.strip().lstrip("*") for line in documented for n in line.split(",")}
        if "params" not in names:  # "**params: those of the parent class" covers them all
            assert set(params) <= names, f"{name}: parameters not documented: {set(params) - names}"
    for role in ("class", "func", "meth", "mod", "attr", "data", "exc", "obj"):
        roles.register_generic_role(role, __import__("docutils.nodes").nodes.literal)
    config = Config(
        napoleon_google_docstring=False,
        napoleon_use_param=True,
        napoleon_use_ivar=True,
        napoleon_use_rtype=False,
    )  # as _config.yml sets them
    rest = str(NumpyDocstring(doc, config))
    docutils.publish_doctree(rest, settings_overrides={"report_level": 2, "halt_level": 2})


def _built_api_page() -> str:
    stale = (
        not API_HTML.is_file()
        or API_HTML.stat().st_mtime < (ROOT / "deployment_modes" / "__init__.py").stat().st_mtime
    )
    if stale:
        reason = f"{API_HTML} missing or older than deployment_modes/__init__.py: run python3 dev.py book"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return API_HTML.read_text(encoding="utf-8")


@pytest.mark.slow  # needs the built book: run after it, with the system checks
def test_every_public_name_appears_in_the_built_api_page():
    html = _built_api_page()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = [n for n in OBJECTS if f"deployment_modes.{n}" not in ids]
    missing += [n for n in MODULES if f"module-deployment_modes.{n}" not in ids]
    assert not missing, f"public names missing from the built API page: {missing}"
