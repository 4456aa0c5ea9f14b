"""Sphinx extension for the rendered book: JavaScript served locally, the repository's address, CSS.

- Mermaid, the ipywidgets HTML manager and require.js are served from ``_static/book_js/`` when
  ``python3 dev.py`` could copy them there from the locked npm packages (book/_assets/package-lock.json);
  otherwise the pages keep sphinxcontrib-mermaid's and myst-nb's CDN addresses (they then need the network).
- The repository's address, set once in _config.yml (``repository: url:``), is offered to the pages as the
  MyST substitutions ``{{ repository_url }}`` and ``{{ pip_install_repository }}``.
- ``book.css`` sizes Mermaid diagrams to their content.
- Pages open in the light theme (``html_context['default_mode']``; the reader can switch), and a script registered twice
  (sphinx-thebe's configuration, whose second copy throws "THEBE_JS_URL has already been declared")
  is written once.
- A docstring's short reference (:class:`Timeline`) resolves to the package's name
  (``deployment_modes.Timeline``) when nothing closer matches.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.util import logging

STATIC = Path(__file__).resolve().parent / "static"
MERMAID = "book_js/mermaid/mermaid.esm.min.mjs"
REQUIRE = "book_js/require.js"
WIDGETS = "book_js/html-manager/embed-amd.js"
REQUIRE_CONFIG = "widgets-require-config.js"  # committed: where require.js finds the manager's modules

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
        logger.info("book_site: no local JavaScript in %s (run python3 dev.py book); Mermaid and widgets "
                    "load from a CDN", STATIC / "book_js")
    config.html_context = {"default_mode": "light", **(config.html_context or {})}
    url = (config.html_theme_options or {}).get("repository_url", "").rstrip("/")
    branch = (config.html_theme_options or {}).get("repository_branch", "main")
    subs = dict(config.myst_substitutions or {})
    subs.setdefault("repository_url", url)
    # [book] brings myst-nb, whose glue the chapters call; a fenced block, so the line is copied whole
    subs.setdefault("pip_install_repository", f'```\n%pip install "deployment-modes[book] @ git+{url}@{branch}"\n```')
    config.myst_substitutions = subs


def _resolve_in_package(app, env, node, contnode):
    """Resolve ``X`` to ``deployment_modes.X`` for a Python reference nothing else resolved."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target or target.startswith("deployment_modes."):
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                              f"deployment_modes.{target}", node, contnode)


def _script_once(app, pagename, templatename, context, doctree):
    """Drop repeated scripts (same address, attributes and body) from a page."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),  # a body-only script is None or ''

               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: the builder renders (and later resets) this very list


def setup(app):
    # early: html-page-context stops at the first handler that returns a template; myst-nb's later additions are unique
    app.connect("html-page-context", _script_once, priority=100)
    app.connect("config-inited", _configure, priority=400)
    app.connect("missing-reference", _resolve_in_package)
    app.add_css_file("book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
