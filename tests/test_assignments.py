"""The graded assignments (assignments/*.ipynb, otter-grader) and the student build of the book.

Every assignment is generated once for the module (``otter assign``), then a folder with, per
assignment, the solution notebook, the blank student notebook and the deliberately wrong
submission of tests/data/ is graded in one call (``otter run``, errors in cells not ignored).
The student build of the book is checked when it exists (``python3 dev.py student-book``, run
by .ci/run); REQUIRE_STUDENT_BUILD=1 makes its absence a failure.
"""

import html
import json
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("otter", reason="otter-grader is in the instructor extra")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "assignments"))
import otter_tasks  # noqa: E402

NAMES = sorted(otter_tasks.masters())
WRONG = {p.stem.removesuffix("_wrong"): p for p in sorted((ROOT / "tests" / "data").glob("*_wrong.ipynb"))}
STUDENT_HTML = ROOT / "_build" / "student" / "_build" / "html"

pytestmark = pytest.mark.slow


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    return otter_tasks.generate(out=out, run_tests=False, jobs=2), out


@pytest.fixture(scope="module")
def graded(generated, tmp_path_factory):
    folders, out = generated
    submissions = tmp_path_factory.mktemp("submissions")
    for name, folder in folders.items():
        shutil.copy(folder / "autograder" / f"{name}.ipynb", submissions / f"{name}_solution.ipynb")
        shutil.copy(folder / "student" / f"{name}.ipynb", submissions / f"{name}_blank.ipynb")
        if name in WRONG:
            shutil.copy(WRONG[name], submissions / f"{name}_wrong.ipynb")
    csv_path = submissions / "scores.csv"
    rows = otter_tasks.grade(submissions, csv_path, out=out, jobs=2, debug=True)
    return {Path(r["submission"]).stem: r for r in rows}, csv_path


def test_there_are_assignments_for_every_chapter():
    assert {"batch", "online", "out_of_core", "decision"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_assignment_generates(generated, name):
    folders, out = generated
    student = folders[name] / "student" / f"{name}.ipynb"
    assert student.exists()
    assert otter_tasks.autograder_zip(name, out).stat().st_size > 0
    questions = json.loads(student.read_text())["metadata"]["otter"]["tests"]
    assert questions, "the student notebook carries the public tests of its questions"


@pytest.mark.parametrize("name", NAMES)
def test_solutions_execute_and_score_full_marks(graded, name):
    row = graded[0][f"{name}_solution"]
    assert not row["error"], row["error"]
    assert row["public_passed"]
    assert row["max_score"] > 0 and row["score"] == row["max_score"]


@pytest.mark.parametrize("name", NAMES)
def test_blank_student_notebook_runs_and_scores_zero(graded, name):
    row = graded[0][f"{name}_blank"]
    assert not row["error"], f"the blank notebook should execute without an error:\n{row['error']}"
    questions = [k for k in row if k + "_max" in row]
    assert questions and all(row[q] == 0 for q in questions), row


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_submission_loses_the_marks_hidden_tests_guard(graded, name):
    row = graded[0][f"{name}_wrong"]
    assert not row["error"], row["error"]
    assert row["public_passed"], "the wrong submission passes every public test..."
    questions = [k for k in row if k + "_max" in row]
    lost = [q for q in questions if row[q] < row[q + "_max"]]
    assert lost == questions, f"...and loses marks on every question through hidden tests: {row}"
    assert row["score"] > 0


def test_grade_writes_one_csv_row_per_submission(graded):
    rows, csv_path = graded
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("submission,assignment,score,max_score")
    assert len(lines) == 1 + len(rows)


def _solution_lines(master):
    """The lines of a master's solutions, and every line outside them."""
    inside, outside, in_block, in_cell = set(), set(), False, False
    for cell in _cells(master):
        text = _source(cell)
        if cell["cell_type"] == "raw":
            if text.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
                in_cell = text.strip() == "# BEGIN SOLUTION"
            continue
        for line in text.splitlines():
            marker = line.strip()
            if marker in ("# BEGIN SOLUTION", "# END SOLUTION"):
                in_block = marker == "# BEGIN SOLUTION"
            elif in_cell and (in_block or marker.endswith("# SOLUTION")):
                inside.add(marker)
            else:
                outside.add(marker)
    return inside, outside


def _hidden_tests(master):
    """The names of the test functions of a master's hidden test cells."""
    return [re.search(r"def (\w+)", _source(c)).group(1) for c in _cells(master)
            if c["cell_type"] == "code" and _source(c).lstrip().upper().startswith("# HIDDEN")]


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solution_and_no_hidden_test(generated, name):
    folders, _ = generated
    master = otter_tasks.masters()[name]
    student = (folders[name] / "student" / f"{name}.ipynb").read_text()
    inside, outside = _solution_lines(master)
    secret = [line for line in inside - outside if len(line) > 6]
    assert secret, "the master has solution lines to look for"
    code = "\n".join(_source(c) for c in json.loads(student)["cells"])
    assert not [line for line in secret if line in code]
    hidden = _hidden_tests(master)
    assert hidden, "the master has hidden tests"
    assert not [t for t in hidden if t in student], "a hidden test reached the student notebook"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def _words(text):
    return " ".join(text.split())


def _book_solutions():
    """Per book notebook: the lines of its gated solutions (prose and code) found nowhere else, and
    how many exercises it has."""
    found = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        inside, outside, in_solution, exercises = set(), set(), False, 0
        for cell in _cells(path):
            for line in _source(cell).splitlines():
                exercises += line.startswith("```{exercise}")
                if line.startswith(("```{solution-start}", "```{solution-end}")):
                    in_solution = line.startswith("```{solution-start}")
                elif len(line.strip()) > 25 and not line.startswith((":", "```")):
                    (inside if in_solution else outside).add(_words(re.sub(r"[`*]", "", line)))
        body = "\n".join(outside)  # a solution line that the chapter's text also holds is no secret
        found[path.stem] = sorted(line for line in inside if line not in body), exercises
    return found


def _visible_text(page):
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return _words(html.unescape("".join(parser.parts)))


def _student_page(stem):
    page = STUDENT_HTML / "book" / f"{stem}.html"
    if not page.exists():
        if os.environ.get("REQUIRE_STUDENT_BUILD") == "1":
            pytest.fail(f"{page} is missing: run python3 dev.py student-book first")
        pytest.skip("no student build: python3 dev.py student-book (REQUIRE_STUDENT_BUILD=1 requires it)")
    return page


def test_student_book_has_no_solution_text():
    solutions = _book_solutions()
    assert any(texts for texts, _ in solutions.values()), "the book has solutions to hide"
    for stem, (texts, exercises) in solutions.items():
        page = _student_page(stem)
        leaked = [t for t in texts if t in _visible_text(page)]
        assert not leaked, f"{stem}: solution text in the student build: {leaked[:3]}"
        full = ROOT / "_build" / "html" / "book" / f"{stem}.html"
        if texts and full.exists():  # the same search finds the solutions in the full book
            assert [t for t in texts if t in _visible_text(full)], f"{stem}: the check finds nothing"
        page = page.read_text(encoding="utf-8")
        assert page.count('class="exercise admonition"') == exercises, f"{stem}: the exercises are kept"
        assert 'class="solution' not in page
        assert "colab.research.google.com" not in page and "mybinder.org" not in page, "no launch button to the sources"
    everything = "\n".join(p.read_text(errors="ignore") for p in STUDENT_HTML.rglob("*")
                           if p.is_file() and p.suffix in (".html", ".js", ".txt", ".ipynb", ".md"))
    for texts, _ in solutions.values():
        assert not [t for t in texts if t in everything], "solution text in a file of the student build"


def test_bad_inputs_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no master notebook"):
        otter_tasks.masters(["no-such-assignment"])
    with pytest.raises(ValueError, match="submissions must be a folder"):
        otter_tasks.grade(tmp_path / "missing")
    with pytest.raises(ValueError, match="no .ipynb"):
        otter_tasks.grade(tmp_path)
    (tmp_path / "notes.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="is not a notebook"):
        otter_tasks.assignment_of(tmp_path / "notes.ipynb")
    row = otter_tasks.grade_one(tmp_path / "notes.ipynb")
    assert row["score"] == 0 and "is not a notebook" in row["error"]
