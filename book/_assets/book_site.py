"""Sphinx extension for the rendered book: JavaScript served locally, the repository's address, CSS.

- Mermaid, the ipywidgets HTML manager and require.js are served from ``_static/book_js/`` when
  ``python3 dev.py`` could copy them there from the locked npm packages (book/_assets/package-lock.json);
  otherwise the pages keep sphinxcontrib-mermaid's and myst-nb's CDN addresses (they then need the network).
- The repository's address, set once in _config.yml (``repository: url:``), is offered to the pages as the
  MyST substitutions ``{{ repository_url }}`` and ``{{ pip_install_repository }}``.
- ``book.css`` sizes Mermaid diagrams to their content; ``figures.js`` keeps figures readable on a
  phone (shrunk to at most 75% of their own size, then scrolled sideways in a box of their own).
- Pages open in the light theme (``html_context['default_mode']``; the reader can switch), and a script registered twice
  (sphinx-thebe's configuration, whose second copy throws "THEBE_JS_URL has already been declared")
  is written once.
- The directive ``package-modules`` writes one section per module in ``deployment_modes.__all__``
  (``automodule`` with its members, less those the package itself exports and those a module only
  re-exports from another, documented where they are defined), so that book/api.md
  documents a new module without being edited; members written elsewhere (scikit-learn's generated
  methods on a subclass) are left out.
- A docstring's short reference (:class:`Timeline`) resolves to the package's name
  (``deployment_modes.Timeline``) when nothing closer matches; one to a real but undocumented name
  shows as code.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import types
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

STATIC = Path(__file__).resolve().parent / "static"
MERMAID = "book_js/mermaid/mermaid.esm.min.mjs"
REQUIRE = "book_js/require.js"
WIDGETS = "book_js/html-manager/embed-amd.js"
REQUIRE_CONFIG = (
    "widgets-require-config.js"  # committed: where require.js finds the manager's modules
)

logger = logging.getLogger(__name__)


def vendored() -> bool:
    """True when every locally served script is in place."""
    return all((STATIC / name).is_file() for name in (MERMAID, REQUIRE, WIDGETS))


def _configure(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    if vendored():
        config.mermaid_use_local = MERMAID
        # the widget manager bundles base, controls and output; any other widget module would come from the CDN
        config.nb_ipywidgets_js = {REQUIRE: {}, REQUIRE_CONFIG: {}, WIDGETS: {}}
    else:
        logger.info(
            "book_site: no local JavaScript in %s (run python3 dev.py book); Mermaid and widgets "
            "load from a CDN",
            STATIC / "book_js",
        )
    config.html_context = {"default_mode": "light", **(config.html_context or {})}
    url = (config.html_theme_options or {}).get("repository_url", "").rstrip("/")
    branch = (config.html_theme_options or {}).get("repository_branch", "main")
    subs = dict(config.myst_substitutions or {})
    subs.setdefault("repository_url", url)
    # what every chapter imports: the server chapter's [serve] (FastAPI, uvicorn, httpx), the out-of-core
    # chapter's [dask]; the prose's numbers need no myst-nb there (deployment_modes.prose). A fenced block,
    # so the line is copied whole.
    subs.setdefault("pip_install_repository", f"```\n{pip_install_line(url, branch)}\n```")
    config.myst_substitutions = subs


def pip_install_line(url: str, branch: str) -> str:
    """The notebook line that installs, on Colab or Binder, what every chapter needs from the repository."""
    return f'%pip install "deployment-modes[serve,dask] @ git+{url.rstrip("/")}@{branch}"'


def _exists(dotted: str) -> bool:
    """Whether ``a.b.c`` names a module or an attribute reached from one."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _resolve_in_package(app, env, node, contnode):
    """A Python reference nothing else resolved, from the package's docstrings.

    ``X`` links to ``deployment_modes.X`` when that is documented; a name that exists but has no
    entry of its own (an undocumented module, an instance attribute) is shown as code without a
    link; anything else is left to Sphinx's warning (a typo).
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target:
        return None
    if not target.startswith("deployment_modes."):
        found = env.get_domain("py").resolve_xref(
            env,
            node["refdoc"],
            app.builder,
            node["reftype"],
            f"deployment_modes.{target}",
            node,
            contnode,
        )
        if found is not None:
            return found
    module, cls = node.get("py:module") or "", node.get("py:class") or ""
    if not module.startswith(PACKAGE):
        return None
    candidates = [
        target,
        f"{module}.{target}",
        f"{module}.{cls}.{target}",
        f"deployment_modes.{target}",
    ]
    instance_attribute = node["reftype"] == "attr" and "." not in target and cls
    if instance_attribute or any(_exists(c) for c in candidates):
        return contnode
    return None


def _script_once(app, pagename, templatename, context, doctree):
    """Drop repeated scripts (same address, attributes and body) from a page."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (
            str(getattr(script, "filename", script) or ""),  # a body-only script is None or ''
            tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = (
        unique  # in place: the builder renders (and later resets) this very list
    )


PACKAGE = "deployment_modes"  # the package that book/api.md documents and docstrings refer to


def load_package(name: str) -> types.ModuleType:
    """Import package ``name`` and every name it exports (its modules load on first use)."""
    package = importlib.import_module(name)
    for exported in package.__all__:
        getattr(package, exported)
    return package


def _load_package_first(app):
    """Import the package in Sphinx's main process, before the page readers are forked from it.

    The reader of book/api.md (autodoc) and the main process's :func:`_resolve_in_package`
    both import it, each in its own process (~5 CPU s for scikit-learn, river, pandas...);
    imported here, they share one import. The objects loaded so far are then left out of the
    garbage collector's passes (``gc.freeze``, as Python's documentation advises before a fork):
    modules live as long as the build, and a forked reader or writer that traversed them would
    copy every page of memory they sit on.
    """
    load_package(PACKAGE)
    gc.freeze()


class PackageModules(SphinxDirective):
    """One section per module that a package exports (in a MyST page: ``{package-modules} deployment_modes``)."""

    required_arguments = 1

    def run(self):
        package = load_package(self.arguments[0])
        exported = {id(getattr(package, n)) for n in package.__all__}
        lines = []
        for name in package.__all__:
            module = getattr(package, name)
            if not isinstance(module, types.ModuleType):
                continue
            summary = (inspect.getdoc(module) or name).splitlines()[0].rstrip(".")
            own = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
            # documented once: where the package exports it, or in the module that defines it
            repeated = [
                n
                for n in own
                if id(getattr(module, n, None)) in exported
                or getattr(getattr(module, n, None), "__module__", module.__name__)
                != module.__name__
            ]
            # the page is MyST: the lines are Markdown, with the autodoc directive in an eval-rst block
            lines += [
                f"## `{module.__name__}`",
                "",
                summary + ".",
                "",
                "```{eval-rst}",
                f".. automodule:: {module.__name__}",
                "   :members:",
            ]
            if repeated:
                lines.append(f"   :exclude-members: {', '.join(repeated)}")
            lines += ["```", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="package-modules"), container)
        return container.children


def _skip_foreign(app, what, name, obj, skip, options):
    """Leave out members written elsewhere (scikit-learn's generated ``set_*_request`` methods...)."""
    module = getattr(obj, "__module__", None)
    if callable(obj) and isinstance(module, str) and not module.startswith("deployment_modes"):
        return True
    return None


# Sphinx reads pages a process per core only if every extension says that it may. Two of Jupyter
# Book's own say nothing, and both may: sphinx_multitoc_numbering only replaces how section numbers
# are assigned, which Sphinx does in its main process once the readers' findings are merged, and
# sphinx_jupyterbook_latex acts for the LaTeX builder alone.
SILENT_BUT_PARALLEL_SAFE = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def _allow_parallel_read(app):
    for name in SILENT_BUT_PARALLEL_SAFE:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True


def setup(app):
    app.connect("builder-inited", _allow_parallel_read)
    app.connect("builder-inited", _load_package_first)
    app.connect("autodoc-skip-member", _skip_foreign)
    app.add_directive("package-modules", PackageModules)
    # early: html-page-context stops at the first handler that returns a template; myst-nb's later additions are unique
    app.connect("html-page-context", _script_once, priority=100)
    app.connect("config-inited", _configure, priority=400)
    app.connect("missing-reference", _resolve_in_package)
    app.add_css_file("book.css")
    app.add_js_file(
        "figures.js"
    )  # figures stay readable on a phone: they scroll rather than shrink
    return {"parallel_read_safe": True, "parallel_write_safe": True}
