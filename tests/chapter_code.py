"""What a chapter's code cells call: the claims tests check that a glued quantity comes from the
package function that defines it (the glossary's "one quantity, one definition")."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1] / "book"

#: Ways of counting training compute by hand, beside dm.cumulative_compute: a chapter that glues
#: compute must not use them (the retrains' rows summed; the old name of that second count).
HAND_COUNTED_COMPUTE = re.compile(r"""retrains\s*\[\s*["']rows["']\s*\]\s*\.sum\(\)|rows_fitted""")


def code(chapter: str) -> str:
    """The code cells of ``book/<chapter>.ipynb``, joined."""
    cells = json.loads((BOOK / f"{chapter}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c["cell_type"] == "code"
    )


def glue_lines(chapter: str, *keys: str) -> list[str]:
    """The source of the ``glue("key", ...)`` call that glues each of ``keys``."""
    text = code(chapter)
    calls = {
        node.args[0].value: ast.get_source_segment(text, node)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "glue"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    missing = [key for key in keys if key not in calls]
    assert not missing, f"{chapter}: nothing glues {missing}"
    return [calls[key] for key in keys]
