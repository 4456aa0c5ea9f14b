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


# -- numbers typed in the prose -----------------------------------------------------------------
# A number in the prose is glued, or it is a setting: a value the chapter's code sets (a literal
# in its code cells), or one listed in SETTINGS below with the setting it names. Labels (Table 2,
# Experiment 1, seed 0, Python 3) and what is quoted in code spans are not numbers of the prose.
PAGES = NOTEBOOKS + [ROOT / "book" / "intro.md", ROOT / "book" / "glossary.md"]
STRIP = re.compile(
    r"\{(?:eval|glue(?::text)?)\}`[^`]+`"  # glued values
    r"|```.*?```|`[^`]*`"  # code blocks and spans
    r"|\]\([^)]*\)|\{(?:doc|ref|numref|term|download)\}`[^`]*`|\([\w-]+\)="  # links, labels
    r"|^---\n.*?\n---\n"  # front matter
    r"|^:(?:label|class|tags):.*$",  # directive options
    re.S | re.M,
)
LABEL = re.compile(
    r"\b(?:Table|Experiment|Figure|Exercise|seed|Python|step|Part|chapter|section|version)\s+\d+"
    r"|\b(?:19|20)\d\d\b"  # years
    r"|\bHTTP \d{3}\b|\ba \d{3}\b",  # status codes
    re.I,
)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
LITERAL = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d+)?")


def _prose_and_code(path):
    if path.suffix == ".ipynb":
        cells = _cells(path)
        prose = [text for kind, text in cells if kind == "markdown"]
        code = "\n".join(text for kind, text in cells if kind == "code")
    else:
        import jupytext

        notebook = jupytext.read(path) if path.name == "intro.md" else None
        prose = (
            [path.read_text(encoding="utf-8")]
            if notebook is None
            else [c.source for c in notebook.cells if c.cell_type == "markdown"]
        )
        code = (
            ""
            if notebook is None
            else "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        )
    return prose, code


def _value(number: str) -> float:
    return float(number.replace(",", "").replace("_", ""))


def typed_numbers(pages=PAGES):
    """``(page, number, line)`` for every number typed in the prose that is not a known setting."""
    found = []
    for path in pages:
        prose, code = _prose_and_code(path)
        in_code = {_value(n) for n in LITERAL.findall(code)}
        allowed = SETTINGS.get(path.name, {})
        for text in prose:
            for line in STRIP.sub(" ", text).splitlines():
                bare = LABEL.sub(" ", line)
                for number in NUMBER.findall(bare):
                    if _value(number) in in_code or number in allowed:
                        continue
                    found.append((path.name, "", number, line.strip()))
    return found


#: Settings the prose names that no code cell of the page sets (package defaults, parameters of a
#: generator or a detector, units, addresses, status codes, citations): {page: {number typed}}.
SETTINGS = {
    # the drifting stream and the house prices: 1,000 initial events, 4,000 streamed (package defaults)
    "batch.ipynb": {"4,000"},
    "online.ipynb": {"4,000"},
    "server.ipynb": {"4,000", "127.0"},  # the scenario's default size; the address 127.0.0.1
    "intro.md": {"1,000", "4,000"},
    # rating.py's rule: "Continuous" from one update per 10 events
    "comparison.ipynb": {"10"},
    # decision_sim.py's settings: first training 1,000 to 4,000 events, retrains every 500 labels
    # on the last 1,000 rows, mini-batches of 10, the 500 events scored after the change
    "decision_guide.ipynb": {"1,000", "4,000", "500", "10"},
    # delay_experiment.py's batch line (every 250 labels); the label store's HTTP status codes
    "late_labels.ipynb": {"250", "404,", "409,", "410"},
    # HashedText's 2**16 features; write_numeric's 20 features and a label
    "out_of_core.ipynb": {"65,536", "21"},
    # the hand-written trigger (100 errors, 20%), the triggers' settings (2 days, 200 events), the
    # drift generator's turns (90 and 30 degrees), the detectors' parameters (threshold 50, windows
    # of 30) and the unit of false alarms (per 10,000 events); a citation (ch. 9); a numbered list
    "retraining.ipynb": {"20", "2", "90", "30", "10,000", "50", "9"},
}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_number_of_the_prose_is_glued_or_a_setting(path):
    typed = [f"{number!r} in: {line[:100]}" for _, _, number, line in typed_numbers([path])]
    assert not typed, (
        f"{path.name}: numbers typed by hand (glue them, set them in a code cell, or list the "
        f"setting in SETTINGS): {typed}"
    )


def test_the_typed_number_check_finds_a_typed_result(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('glue("acc", "91.2")\nRETRAIN_EVERY = 500'),
            nbformat.v4.new_markdown_cell(
                'Retrained every 500 events (Table 2, seed 0), {eval}`glued["acc"]`% right, '
                "against 87.6% for batch."
            ),
        ]
    )
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert [number for _, _, number, _ in typed_numbers([path])] == ["87.6"]


def test_the_introduction_pastes_only_keys_its_notebooks_glue():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    pasted = re.findall(r"\{glue:text\}`([\w.]+)::(\w+):s`", intro)
    assert pasted, "the introduction pastes the online chapter's cold-start figures"
    for notebook, key in pasted:
        code = "\n".join(t for kind, t in _cells(ROOT / "book" / notebook) if kind == "code")
        assert is_glued(key, glued_names(code)), f"{notebook} glues no {key!r}"
    local = set(re.findall(r"\{glue:text\}`(\w+)`", intro))
    assert local <= glued_names(intro)


@pytest.mark.parametrize("display", [False, True])
@pytest.mark.parametrize("value", ["12.3", 4_000, 0.5])
def test_glue_outputs_what_myst_nbs_glue_outputs(value, display):
    """The book reads glued values back from the cells' outputs: ours must be myst-nb's, byte for byte."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from myst_nb import glue as myst_glue

    from deployment_modes.prose import glue

    InteractiveShell.instance()  # display data are formatted by a running shell, as in a kernel
    outputs = []
    for function in (glue, myst_glue):
        with capture_output() as captured:
            function("key", value, display=display)
        outputs.append([(o.data, o.metadata) for o in captured.outputs])
    assert outputs[0] == outputs[1] and outputs[0], outputs


#: what a count over seeds must not rest on: a measured time varies from one build to the next
TIMED = re.compile(r"seconds|\bcpu\b|wall|perf_counter|process_time|_ms\b|_us\b", re.I)


def seed_counts(code: str) -> list[str]:
    """The seed counts a chapter's code makes (``on_how_many(...)``, ``count(...)``, a glued
    ``int((...).sum())``), each with the assignments of the names it reads."""
    import ast

    tree = ast.parse(code)
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        assigned.setdefault(name.id, []).append(ast.get_source_segment(code, node))
    counts = []
    for node in ast.walk(tree):
        counting = isinstance(node, ast.Call) and (
            getattr(node.func, "id", None) in ("on_how_many", "count")
            or (
                getattr(node.func, "attr", None) == "sum"
                and any(isinstance(n, ast.Compare) for n in ast.walk(node.func))
            )
        )
        if counting:
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            sources = [ast.get_source_segment(code, node)]
            counts.append("\n".join(sources + [s for n in names for s in assigned.get(n, [])]))
    return counts


@pytest.mark.parametrize("chapter", ["batch", "comparison", "late_labels", "retraining"])
def test_no_count_of_seeds_rests_on_measured_seconds(chapter):
    """ "faster on 3 of the 5 seeds" would change from build to build: timings are shown, never counted."""
    code = "\n".join(
        text for kind, text in _cells(ROOT / "book" / f"{chapter}.ipynb") if kind == "code"
    )
    counts = seed_counts(code)
    assert counts, f"{chapter}: no seed count found (the check reads nothing)"
    timed = [c.splitlines()[0] for c in counts if TIMED.search(c)]
    assert not timed, f"{chapter}: seed counts over measured times: {timed}"


def test_the_comparison_says_its_seconds_vary_and_counts_only_rows():
    prose = " ".join(
        text for kind, text in _cells(ROOT / "book" / "comparison.ipynb") if kind == "markdown"
    )
    prose = " ".join(prose.split())
    assert "which change from one run of this page to the next (the rows do not)" in prose
    assert 'more on {eval}`glued["rows_batch_more_on"]`' in prose
    assert "seconds_batch_more_on" not in prose


def test_the_seed_count_check_finds_a_count_over_seconds():
    code = "t = m['training compute (seconds)']\nglue('k', on_how_many(t['batch'] > t['online']))\n"
    assert any(TIMED.search(c) for c in seed_counts(code))
    assert not any(TIMED.search(c) for c in seed_counts("glue('k', on_how_many(rows > 0))\n"))
