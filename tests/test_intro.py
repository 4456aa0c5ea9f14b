"""The introduction (book/intro.md, a MyST Markdown notebook) executes top to bottom, solutions included.

nbval runs the .ipynb chapters; the introduction is Markdown with code cells, so it is read with
jupytext and executed here the way the book executes it (in book/, errors not allowed).
"""

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

INTRO = Path(__file__).resolve().parents[1] / "book" / "intro.md"


@pytest.mark.slow
def test_the_introduction_executes_and_its_loops_match_the_package():
    notebook = jupytext.read(INTRO)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert len(code) >= 4, "the introduction lost its executable cells"
    assert any("dm.simulate" in c.source and "for x, y in houses" in c.source for c in code)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(INTRO.parent)}},
    ).execute()
    printed = "".join(
        o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream"
    )
    assert "(by hand)" in printed and "(package)" in printed
