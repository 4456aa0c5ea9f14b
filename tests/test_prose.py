"""The numbers in the chapters' prose read right in the built book and in JupyterLab.

A glued number is quoted as ``{eval}`glued["KEY"]``` (book/_ext/prose_numbers.py): the book pastes
the glued text, JupyterLab's jupyterlab-myst evaluates the expression in the kernel. A raw
``{glue:text}`` role would show as its source in JupyterLab: ``python3 dev.py prose`` converts it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import prose_numbers  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
EVAL = re.compile(r"\{eval\}`([^`]+)`")
GLUED_IN_CODE = re.compile(r"""\bglue\(\s*["'](\w+)["']""")
GLUED_BY_PATTERN = re.compile(r"""\bglue\(\s*f(["'])([^"'()]+)\1""")  # glue(f"poison_{key}", ...)
GLUED_BY_LOOP = re.compile(
    r"""for\s+(\w+)\s*,[^:\n]*in\s*\{(.*?)\}\.items\(\)[^\n]*\n(?:[^\n]*\n)*?\s*glue\(\s*\1\b""",
    re.S,
)


def glued_names(code: str) -> set[str]:
    """Keys glued in ``code``: literal names, the keys of a literal dict looped over, and
    patterns (``glue(f"poison_{key}", ...)`` gives ``re:poison_\\w+``)."""
    names = set(GLUED_IN_CODE.findall(code))
    for _, body in GLUED_BY_LOOP.findall(code):
        names |= set(re.findall(r"""["'](\w+)["']\s*:""", body))
    for _, template in GLUED_BY_PATTERN.findall(code):
        names.add("re:" + re.sub(r"\{[^}]*\}", r"\\w+", template))
    return names


def is_glued(key: str, names: set[str]) -> bool:
    return key in names or any(n.startswith("re:") and re.fullmatch(n[3:], key) for n in names)


def _cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        for c in cells
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_raw_glue_role_in_the_prose(path):
    raw = [
        m.group(0)
        for kind, text in _cells(path)
        if kind == "markdown"
        for m in prose_numbers.GLUE_ROLE.finditer(text)
    ]
    assert not raw, (
        f"{path.name}: {len(raw)} glue roles show as raw text in JupyterLab ({raw[:3]}): python3 dev.py prose"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_quoted_number_is_glued_before_it_is_read(path):
    glued, problems, uses = set(), [], 0
    for index, (kind, text) in enumerate(_cells(path)):
        if kind == "code":
            glued |= glued_names(text)
            if "glue(" in text:
                assert "from myst_nb import glue" not in text
        elif kind == "markdown":
            for expression in EVAL.findall(text):
                uses += 1
                match = prose_numbers.EVAL_GLUED.fullmatch(expression.strip())
                if not match:
                    problems.append(f'cell {index + 1}: {expression!r} is not glued["KEY"]')
                elif not is_glued(
                    match.group(2), glued
                ):  # Run All in JupyterLab would show a KeyError here
                    problems.append(
                        f"cell {index + 1}: {match.group(2)!r} is not glued in a cell above"
                    )
    assert not problems, f"{path.name}: {problems}"
    if uses:
        code = "\n".join(text for kind, text in _cells(path) if kind == "code")
        assert "from deployment_modes.prose import glue, glued" in code


def test_conversion_is_mechanical_and_idempotent():
    text = 'MAE {glue:text}`house_mae` after {glue}`n_events` events; {eval}`glued["x"]` stays.'
    once = prose_numbers.convert_markdown(text)
    assert (
        once
        == 'MAE {eval}`glued["house_mae"]` after {eval}`glued["n_events"]` events; {eval}`glued["x"]` stays.'
    )
    assert prose_numbers.convert_markdown(once) == once
    with pytest.raises(ValueError, match="only a local key"):
        prose_numbers.convert_markdown("{glue:text}`other.ipynb::key`")
    with pytest.raises(ValueError, match="only a local key"):
        prose_numbers.convert_markdown("{glue:text}`key:.2f`")


def test_conversion_of_a_notebook_rewrites_the_import(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('from myst_nb import glue\nglue("n", "3", display=False)'),
            nbformat.v4.new_markdown_cell("We saw {glue:text}`n` events."),
        ]
    )
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert len(prose_numbers.convert(path)) == 2
    assert prose_numbers.convert(path) == [], "a second run changes nothing"
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source.startswith("from deployment_modes.prose import glue, glued")
    assert cells[1].source == 'We saw {eval}`glued["n"]` events.'
