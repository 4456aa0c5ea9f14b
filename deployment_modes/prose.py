"""The numbers a chapter's prose quotes, readable in the built book and in JupyterLab alike.

A chapter computes a number and glues it as text, ``glue("drift_at", f"{drift:,}")``; its prose
writes ``{eval}`glued["drift_at"]```. One source of truth, two readers:

- the book (myst-nb, executing in cache mode) pastes the glued text: the ``eval`` role of
  book/_ext/prose_numbers.py reads ``glued["KEY"]`` as myst-nb's ``{glue:text}`KEY```;
- JupyterLab with the jupyterlab-myst extension evaluates the inline expression in the
  notebook's kernel when the Markdown cell is run, where :data:`glued` holds the same text.

The glued output is myst-nb's own (``myst_nb.glue``), written here without importing myst-nb,
which loads Sphinx: two CPU seconds in every chapter's kernel. Outside IPython :func:`glue`
only records the value.
"""

from __future__ import annotations

__all__ = ["glue", "glued"]

GLUE_PREFIX = "application/papermill.record/"  # myst-nb's: what it reads back from an output

glued: dict[str, object] = {}
"""Every value glued in this kernel, by name: what ``{eval}`glued["KEY"]``` shows in JupyterLab."""


def glue(name: str, value, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the prose, and glue it for the book (myst-nb).

    Parameters
    ----------
    name
        The key the prose quotes, a Python identifier (``{eval}`glued["name"]```).
    value
        What the prose shows, usually text formatted by the chapter (``f"{x:.1f}"``).
    display
        Also show the value as the cell's output (myst-nb's ``display``).

    Examples
    --------
    >>> glue("mae", f"{12.345:.1f}")
    >>> glued["mae"]
    '12.3'
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier, got {name!r}")
    glued[name] = value
    try:
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipython_display
    except ImportError:  # no IPython: the prose reads the value from glued
        return
    # as myst_nb.glue does: the value's display data under a prefix the book reads back
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipython_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
