"""Numbers in the prose that read right in the built book and in JupyterLab.

As a Sphinx extension (``_config.yml``: ``local_extensions``) it makes the inline role
``{eval}`glued["KEY"]``` paste the text glued under KEY, as myst-nb's ``{glue:text}`KEY``` does,
so the book keeps executing in cache mode (myst-nb's own ``eval`` role needs its inline mode);
any other ``{eval}`` expression keeps myst-nb's behaviour. In JupyterLab, jupyterlab-myst evaluates
the same expression in the kernel, where ``deployment_modes.prose.glued`` holds what was glued.

As a script, ``python book/_ext/prose_numbers.py [NOTEBOOK ...]`` (``python3 dev.py prose``) turns
the book's notebooks (default: every ``book/*.ipynb``) to that form, and can be re-run at any time:

- ``{glue:text}`KEY``` and ``{glue}`KEY``` in Markdown cells become ``{eval}`glued["KEY"]```;
- ``from myst_nb import glue`` becomes ``from deployment_modes.prose import glue, glued``.

``--check`` changes nothing and exits 1, listing them, if any notebook still needs the change.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`]+)`")
EVAL_GLUED = re.compile(r"""glued\[(["'])(\w+)\1\]""")
OLD_IMPORT = re.compile(r"^from (?:myst_nb|deployment_modes.prose) import glue$", re.MULTILINE)
NEW_IMPORT = "from deployment_modes.prose import glue, glued  # noqa: F401 - the prose reads glued"


def convert_markdown(text: str) -> str:
    """Markdown with every ``{glue:text}`` role of a local key turned into ``{eval}`glued["KEY"]```."""

    def replace(match):
        key = match.group(1)
        if not re.fullmatch(
            r"\w+", key
        ):  # another notebook's key or a format spec: cannot be evaluated here
            raise ValueError(
                f"cannot convert {match.group(0)!r}: only a local key without a format converts"
            )
        return f'{{eval}}`glued["{key}"]`'

    return GLUE_ROLE.sub(replace, text)


def convert(path: Path, write: bool = True) -> list[str]:
    """Convert one notebook; return what changed (nothing when it is already converted)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changes = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            new = convert_markdown(cell.source)
            if new != cell.source:
                changes.append(
                    f"{path.name} cell {index + 1}: {len(GLUE_ROLE.findall(cell.source))} glue role(s)"
                )
                cell.source = new
        elif cell.cell_type == "code" and OLD_IMPORT.search(cell.source):
            cell.source = OLD_IMPORT.sub(NEW_IMPORT, cell.source)
            changes.append(
                f"{path.name} cell {index + 1}: glue imported from deployment_modes.prose"
            )
    if changes and write:
        nbformat.write(nb, path)
    return changes


def _eval_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    """``{eval}`glued["KEY"]``` pastes KEY's glued text; other expressions go to myst-nb's role."""
    from myst_nb.ext.eval import EvalRoleAny
    from myst_nb.ext.glue.roles import PasteTextRole

    match = EVAL_GLUED.fullmatch(text.strip())
    if match:
        return PasteTextRole()(name, rawtext, match.group(2), lineno, inliner, options, content)
    return EvalRoleAny()(name, rawtext, text, lineno, inliner, options, content)


def _register(app) -> None:
    app.add_role("eval", _eval_role, override=True)  # after myst-nb registered its own


def setup(app):
    app.connect("builder-inited", _register)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    names = [a for a in argv if a != "--check"]
    root = Path(__file__).resolve().parents[2]
    paths = [Path(n) for n in names] or sorted((root / "book").glob("*.ipynb"))
    changes = [change for path in paths for change in convert(path, write=not check)]
    for change in changes:
        print(("needs: " if check else "converted: ") + change)
    if not changes:
        print("every notebook's prose numbers read right in the book and in JupyterLab")
    return 1 if check and changes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
