"""Grade one submission with otter-grader, in the process that ``grading.py`` starts for it.

    python grade_runner.py AUTOGRADER.zip SUBMISSION.ipynb OUTCOME.json TIME_LIMIT

``grading.py`` runs this script once per submission, in a fresh temporary folder (also its TMPDIR,
removed afterwards) and, where the machine allows it, in a network namespace of its own
(``unshare -n``: no network but loopback, which otter's logging uses). On top of ``otter run``:

- a time budget for the submission's cells (from the first cell on): a cell still running when the
  budget is spent is interrupted (``KeyboardInterrupt``) and the notebook goes on, each later cell
  with a short time of its own (a tenth of the budget, 5 s at least), so the questions answered
  before it keep their points; the tests at the end get a time of their own;
- the tests' sources (``tests/`` beside the submission and in otter's ``source/``) are moved out of the
  grading folder while the submission's cells run, and put back just before otter's final cell runs
  every test;
- OUTCOME.json gets, per question, the score, the maximum and each test case (hidden ones by name
  only), the cells that timed out, or the error and the cell the grading was running when it failed.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

EXPORT_MARK = "GradingResults(Checker.get_results())"  # otter's last cell, which runs every test
TESTS_TIME = 120.0  # seconds for that cell, whatever the submission's budget


def bring_loopback_up() -> None:
    """In a fresh network namespace loopback is down: bring it up (otter logs over 127.0.0.1)."""
    import fcntl
    import socket
    import struct

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            flags = struct.unpack(
                "16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0))[:18]
            )[1]
            if not flags & 0x1:
                fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))
    except OSError:
        pass  # not allowed: loopback is up anyway outside a namespace


def label(notebook_cell) -> str:
    """'cell N (first line ... last line)' for a cell of the submission, from the index in its metadata."""
    index = notebook_cell.get("metadata", {}).get("grader_cell")
    lines = [line.strip() for line in notebook_cell.get("source", "").splitlines() if line.strip()]
    where = f"cell {index + 1}" if index is not None else "a cell added by otter"
    if not lines:
        return where
    shown = lines[0][:60] + (f" ... {lines[-1][:60]}" if len(lines) > 1 else "")
    return f"{where} ({shown})"


class Watch:
    """The hooks given to otter's notebook client: budget, progress, hidden tests put back at the end."""

    def __init__(self, time_limit: float, stash: list[tuple[Path, Path]]):
        self.time_limit, self.deadline = time_limit, None  # the clock starts with the first cell
        self.stash = stash
        self.current = None
        self.started = 0.0
        self.timeout = 0.0
        self.timed_out: list[str] = []

    def timeout_for(self, cell) -> float:
        if EXPORT_MARK in cell.get("source", ""):
            return TESTS_TIME
        if self.deadline is None:
            self.deadline = time.monotonic() + self.time_limit
        grace = max(5.0, 0.1 * self.time_limit)  # once the budget is spent, a short time a cell
        return max(grace, self.deadline - time.monotonic())

    def on_start(self, cell, cell_index, **_):
        self.current = cell
        self.started, self.timeout = time.monotonic(), self.timeout_for(cell)
        if EXPORT_MARK in cell.get("source", ""):
            for private, public in self.stash:
                shutil.move(private, public)
            self.stash.clear()

    def on_executed(self, cell, cell_index, execute_reply=None, **_):
        content = (execute_reply or {}).get("content", {})
        interrupted = (
            content.get("status") == "error" and content.get("ename") == "KeyboardInterrupt"
        )
        if interrupted and time.monotonic() - self.started >= self.timeout - 0.05:
            self.timed_out.append(label(cell))

    def install(self):
        from nbconvert.preprocessors import ExecutePreprocessor

        original, watch = ExecutePreprocessor.__init__, self

        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)
            self.interrupt_on_timeout = True
            self.timeout_func = watch.timeout_for
            self.on_cell_start = watch.on_start
            self.on_cell_executed = watch.on_executed

        ExecutePreprocessor.__init__ = init


def hide_tests_while_cells_run(stash: list[tuple[Path, Path]]) -> None:
    """Wrap otter's grade_notebook: move the test folders out of the grading folder first."""
    from otter.run.run_autograder.runners import python_runner

    original = python_runner.grade_notebook

    def grade_notebook(*args, **kwargs):
        private = Path(tempfile.mkdtemp(prefix="tests-"))
        for i, folder in enumerate(
            [Path("tests"), Path("../source/tests")]
        ):  # cwd: autograder/submission
            if folder.is_dir():
                stash.append((private / str(i), folder.resolve()))
                shutil.move(folder, private / str(i))
        return original(*args, **kwargs)

    python_runner.grade_notebook = grade_notebook


def outcome_of(results) -> dict:
    questions = {}
    for name, test_file in results.results.items():
        cases = [
            {
                "name": r.test_case.name,
                "hidden": bool(r.test_case.hidden),
                "passed": bool(r.passed),
                "message": ""
                if r.test_case.hidden or r.passed
                else (r.message or "").strip()[-1500:],
            }
            for r in test_file.test_case_results
        ]
        questions[name] = {
            "score": float(test_file.score),
            "max_score": float(test_file.possible),
            "cases": cases,
        }
    return {"questions": questions}


def main(autograder: str, submission: str, outcome_path: str, time_limit: float) -> int:
    bring_loopback_up()
    import nbformat

    nb = nbformat.read(submission, as_version=4)
    for index, cell in enumerate(nb.cells):  # to name a cell of the submission in errors
        cell.metadata["grader_cell"] = index
    copy = Path(tempfile.mkdtemp(prefix="submission-")) / Path(submission).name
    nbformat.write(nb, copy)
    stash: list[tuple[Path, Path]] = []
    watch = Watch(time_limit, stash)
    watch.install()
    hide_tests_while_cells_run(stash)
    from otter.run import main as otter_run

    try:
        outcome = outcome_of(
            otter_run(str(copy), autograder=autograder, output_dir=None, no_logo=True)
        )
        if not outcome["questions"]:
            outcome["error"] = (
                "otter returned no test results (the notebook's final cell did not run)"
            )
    except BaseException as error:  # noqa: BLE001 - whatever stopped the grading is the row's reason
        where = f" while running {label(watch.current)}" if watch.current is not None else ""
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}"
        outcome = {"error": f"grading failed{where}: {reason}"}
    outcome["timed_out"] = watch.timed_out
    Path(outcome_path).write_text(json.dumps(outcome, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
