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
import grading  # noqa: E402
import otter_tasks  # noqa: E402

# the masters: assignments/ here, or a private copy (COURSE_MASTERS=DIR, see assignments/README.md)
MASTERS = Path(os.environ.get("COURSE_MASTERS") or ROOT / "assignments")
NAMES = sorted(otter_tasks.masters(folder=MASTERS))
WRONG = {
    p.stem.removesuffix("_wrong"): p
    for p in sorted((ROOT / "tests" / "data").glob("*_wrong.ipynb"))
}
STUDENT_HTML = ROOT / "_build" / "student" / "_build" / "html"

pytestmark = pytest.mark.slow


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if not NAMES:
        pytest.skip(f"no master notebook in {MASTERS} (set COURSE_MASTERS to your private copy)")
    out = tmp_path_factory.mktemp("assignments")
    return otter_tasks.generate(out=out, run_tests=False, jobs=2, folder=MASTERS), out


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
    rows = grading.grade(submissions, csv_path, out=out, jobs=2, log=lambda line: None)
    return {Path(r["submission"]).stem: r for r in rows}, csv_path


def test_there_are_assignments_for_every_chapter():
    if not NAMES and os.environ.get("COURSE_MASTERS"):
        pytest.skip("the masters are kept elsewhere")
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
    assert lines[0].startswith(
        "student,assignment,submission,sha256,older_submissions,score,max_score"
    )
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
    return [
        re.search(r"def (\w+)", _source(c)).group(1)
        for c in _cells(master)
        if c["cell_type"] == "code" and _source(c).lstrip().upper().startswith("# HIDDEN")
    ]


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solution_and_no_hidden_test(generated, name):
    folders, _ = generated
    master = otter_tasks.masters(folder=MASTERS)[name]
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
        pytest.skip(
            "no student build: python3 dev.py student-book (REQUIRE_STUDENT_BUILD=1 requires it)"
        )
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
            assert [t for t in texts if t in _visible_text(full)], (
                f"{stem}: the check finds nothing"
            )
        page = page.read_text(encoding="utf-8")
        assert page.count('class="exercise admonition"') == exercises, (
            f"{stem}: the exercises are kept"
        )
        assert 'class="solution' not in page
        assert "colab.research.google.com" not in page and "mybinder.org" not in page, (
            "no launch button to the sources"
        )
        assert 'title="Source repository"' not in page, (
            "no repository button (the masters may live there)"
        )
    everything = "\n".join(
        p.read_text(errors="ignore")
        for p in STUDENT_HTML.rglob("*")
        if p.is_file() and p.suffix in (".html", ".js", ".txt", ".ipynb", ".md")
    )
    for texts, _ in solutions.values():
        assert not [t for t in texts if t in everything], (
            "solution text in a file of the student build"
        )


def test_bad_inputs_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no master notebook"):
        otter_tasks.masters(["no-such-assignment"])
    with pytest.raises(ValueError, match="masters must be a folder"):
        otter_tasks.masters(folder=tmp_path / "missing")
    with pytest.raises(ValueError, match="submissions must be a folder"):
        grading.grade(tmp_path / "missing")
    with pytest.raises(ValueError, match="no .ipynb"):
        grading.grade(tmp_path)
    (tmp_path / "notes.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="time_limit"):
        grading.grade(tmp_path, time_limit=0)
    assignment, notebook, problem = grading.identify(tmp_path / "notes.ipynb", {"batch": None})
    assert (assignment, notebook) == ("", None) and "not a notebook" in problem


def _with_cell(notebook, source, after):
    """A copy of a notebook (as JSON) with a code cell added after the first cell containing ``after``."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"]) if after in _source(c)) + 1
    nb["cells"].insert(
        at,
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": source,
        },
    )
    return nb


RIG = """import glob, json, socket
import otter.test_files
otter.test_files.TestFile.score = property(lambda self: self.possible)  # full marks, whatever the tests say
otter.test_files.GradingResults.total = property(lambda self: self.possible)
found = glob.glob("tests/*.py") + glob.glob("../source/tests/*.py") + glob.glob("../**/tests/*.py", recursive=True)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    network = "reached"
except OSError as error:
    network = str(error)
open(LEAK, "w").write(json.dumps({"found": found, "network": network}))
"""


@pytest.fixture(scope="module")
def class_folder(generated, tmp_path_factory):
    """A real class: honest work, a resubmission, an infinite loop, a crash, a corrupt file, a rigged notebook."""
    folders, out = generated
    name = "decision"
    solution = folders[name] / "autograder" / f"{name}.ipynb"
    blank = folders[name] / "student" / f"{name}.ipynb"
    folder = tmp_path_factory.mktemp("class")
    leak = folder.parent / "leak.json"
    shutil.copy(solution, folder / f"{name}_dana.ipynb")
    (folder / "erin").mkdir()
    shutil.copy(WRONG[name], folder / "erin" / f"{name}.ipynb")
    shutil.copy(solution, folder / "erin" / f"{name}_v2.ipynb")
    os.utime(folder / "erin" / f"{name}.ipynb", (1e9, 1e9))  # the older of erin's two submissions
    check_q1 = 'grader.check("q1")'
    loop = _with_cell(solution, "while True:\n    pass", check_q1)
    (folder / f"{name}_looping.ipynb").write_text(json.dumps(loop))
    crash = _with_cell(solution, "import os\nos._exit(3)", check_q1)
    (folder / f"{name}_crashing.ipynb").write_text(json.dumps(crash))
    (folder / f"{name}_corrupt.ipynb").write_text('{"cells": [ not json')
    rigged = _with_cell(blank, RIG.replace("LEAK", repr(str(leak))), "import deployment_modes")
    (folder / f"{name}_rigged.ipynb").write_text(json.dumps(rigged))
    csv_path = folder.parent / "class_scores.csv"
    rows = grading.grade(
        folder, csv_path, out=out, jobs=2, time_limit=TIME_LIMIT, log=lambda line: None
    )
    return folder, csv_path, {r["student"]: r for r in rows}, leak, out


TIME_LIMIT = 60  # seconds for a submission's cells: honest ones take a few


def test_a_class_grades_to_a_complete_csv_with_feedback(class_folder):
    folder, csv_path, rows, _, _ = class_folder
    import csv

    with open(csv_path, newline="") as f:
        written = {r["student"]: r for r in csv.DictReader(f)}
    assert (
        set(written)
        == set(rows)
        == {
            "decision_dana",
            "erin",
            "decision_looping",
            "decision_crashing",
            "decision_corrupt",
            "decision_rigged",
        }
    )
    header = csv_path.read_text().splitlines()[0].split(",")
    assert not [c for c in header if "Autograder" in c or c == "Public Tests"], (
        "no pseudo-test columns"
    )
    full = rows["decision_dana"]["max_score"]
    assert full > 0 and all(float(r["max_score"]) == full for r in written.values()), (
        "error rows keep the maximum"
    )
    assert rows["decision_dana"]["score"] == full and not rows["decision_dana"]["error"]
    feedback = {
        p.name: p.read_text() for p in csv_path.with_name("class_scores_feedback").glob("*.txt")
    }
    assert len(feedback) == len(rows)
    assert "Not graded" in feedback["decision_corrupt__decision.txt"]
    assert csv_path.with_suffix(".log").read_text().count("\n") >= len(rows)


def test_resubmission_latest_wins_and_the_csv_names_the_file(class_folder):
    _, _, rows, _, _ = class_folder
    erin = rows["erin"]
    assert erin["submission"].endswith("decision_v2.ipynb") and erin["older_submissions"] == 1
    assert erin["score"] == erin["max_score"]


def test_infinite_loop_times_out_and_keeps_the_points_before_it(class_folder):
    _, _, rows, _, _ = class_folder
    looping = rows["decision_looping"]
    assert "while True" in looping["timed_out"], looping
    assert not looping["error"], looping["error"]
    assert looping["q1"] == looping["q1_max"] > 0, "q1 was answered before the hung cell"


def test_crash_and_corrupt_file_are_error_rows_with_the_reason(class_folder):
    _, _, rows, _, _ = class_folder
    crash, corrupt = rows["decision_crashing"], rows["decision_corrupt"]
    assert "cell 7" in crash["error"] and "os._exit(3)" in crash["error"], crash["error"]
    assert "not a notebook" in corrupt["error"]
    assert crash["score"] == corrupt["score"] == 0


def test_rigged_notebook_is_flagged_and_gains_nothing(class_folder):
    _, _, rows, leak, _ = class_folder
    rigged = rows["decision_rigged"]
    assert "otter" in rigged["flagged"]
    assert rigged["score"] == 0, "patching otter's classes in the kernel does not change the score"
    seen = json.loads(leak.read_text())
    assert seen["found"] == [], (
        "the tests' sources are not on disk while the submission's cells run"
    )
    assert seen["network"] != "reached"
    assert not rows["decision_dana"]["flagged"], "the handed-out code is not suspicious"


def test_interrupted_run_resumes_where_it_stopped(class_folder):
    folder, csv_path, rows, _, out = class_folder
    lines = csv_path.read_text().splitlines()
    kept = [
        line for line in lines[1:] if "decision_corrupt" not in line and "decision_dana" not in line
    ]
    csv_path.write_text("\n".join([lines[0], *kept]) + "\n")  # as if stopped before those two
    log = []
    again = grading.grade(folder, csv_path, out=out, time_limit=TIME_LIMIT, log=log.append)
    assert any("resuming: 4 already graded" in line for line in log)
    graded_now = [line for line in log if "/ " in line or "ERROR" in line]
    assert len(graded_now) == 2, log
    assert len(again) == len(rows) and len(csv_path.read_text().splitlines()) == 1 + len(rows)


def test_autograder_lists_the_course_requirements(generated):
    import zipfile

    _, out = generated
    with zipfile.ZipFile(otter_tasks.autograder_zip("batch", out)) as zipped:
        requirements = zipped.read("requirements.txt").decode()
    assert "deployment-modes @ git+" in requirements
    for package in ("river==", "scikit-learn==", "numpy==", "pandas=="):
        assert package in requirements, package


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_shows_points_per_question(generated, name):
    folders, _ = generated
    cells = _cells(folders[name] / "student" / f"{name}.ipynb")
    shown = [
        c for c in cells if c["cell_type"] == "markdown" and re.search(r"_Points:_ \d", _source(c))
    ]
    questions = json.loads((folders[name] / "student" / f"{name}.ipynb").read_text())["metadata"][
        "otter"
    ]["tests"]
    assert len(shown) == len(questions), (
        "each question's points in its prompt (otter's show_question_points)"
    )


def test_the_installable_package_carries_no_master(tmp_path):
    """The wheel and the sdist built from the repository hold no master, no fixture, no hidden test."""
    import subprocess
    import tarfile
    import zipfile

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    source = tmp_path / "source"
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    build = (
        "from setuptools import build_meta as b; b.build_sdist({0!r}); b.build_wheel({0!r})".format(
            str(tmp_path / "dist")
        )
    )
    subprocess.run([sys.executable, "-c", build], cwd=source, capture_output=True, check=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as w:
        files = {n: w.read(n) for n in w.namelist()}
    with tarfile.open(sdist) as t:
        files.update({m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()})
    assert any(n.endswith("deployment_modes/timeline.py") for n in files), (
        "the package itself is there"
    )
    carried = [
        n
        for n, data in files.items()
        if n.endswith(".ipynb")
        or "assignments/" in n
        or "tests/" in n
        or b"# BEGIN SOLUTION" in data
        or b"# HIDDEN" in data
    ]
    assert not carried, f"the installable package carries assignment material: {carried}"


def test_student_config_drops_the_buttons_to_the_sources():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from student_config import student_config

    config = student_config(str(ROOT))
    assert config["html"]["use_repository_button"] is False
    assert config["launch_buttons"] == {"binderhub_url": "", "colab_url": ""}
    options = config["sphinx"]["config"]
    assert options["hide_solutions"] is True and options["html_copy_source"] is False
    assert options["html_theme_options"]["use_repository_button"] is False
    assert all(Path(p).is_absolute() for p in config["sphinx"]["local_extensions"].values())
