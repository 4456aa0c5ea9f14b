"""Grade a class's submissions offline: one isolated, time-limited ``otter run`` per submission.

``grade(submissions, csv_path)`` is what ``python3 dev.py grade`` runs. Per student and assignment
the latest submission is graded (students are the sub-folders of SUBMISSIONS, or each file is its own
student when the folder is flat); each row of the CSV is written as soon as it is graded, a run that
is interrupted resumes where it stopped, and beside the CSV go a feedback file per submission and a
log of the run. See assignments/README.md, "Collect and grade", for what is and is not protected.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache
from pathlib import Path

RUNNER = Path(__file__).resolve().with_name("grade_runner.py")
RUNNING: set = set()  # the grading processes alive, stopped on Ctrl-C
STOPPING = threading.Event()  # set on Ctrl-C: a grading cut short writes no row
TIME_LIMIT = 300.0  # seconds a submission's cells may run, by default
BASE = [
    "student",
    "assignment",
    "submission",
    "sha256",
    "older_submissions",
    "score",
    "max_score",
    "public_passed",
    "flagged",
    "timed_out",
    "error",
]
# code a submission has no reason to contain: it reaches into the grader, its files or the network
SUSPICIOUS = re.compile(
    r"\botter\b|\bgrader\b(?!\.(check|check_all|export)\()|autograder|results\.(json|pkl)|"
    r"GradingResults|Checker|\btests/|OK_FORMAT|sys\.modules|__import__|importlib|"
    r"\bgc\.get_objects|\bsocket\b|urllib|requests\.|subprocess|os\.system"
)


@cache
def questions_of(autograder: str) -> dict[str, float]:
    """``{question: max points}`` of an autograder zip, read from its test files (not from a run)."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(autograder) as zipped:
        names = sorted(n for n in zipped.namelist() if re.fullmatch(r"tests/[^/]+\.py", n))
        zipped.extractall(tmp, names)
        found = {}
        for name in names:
            test = create_test_file(str(Path(tmp) / name), NBMetadataConfig())
            found[test.name] = float(test.possible)
    return found


def suspicious_lines(notebook: dict, handed_out: dict | None) -> list[str]:
    """Code lines of a submission that reach for otter, its files or the network (handed-out lines aside)."""

    def lines(nb):
        return [
            line.strip()
            for cell in nb.get("cells", [])
            if cell.get("cell_type") == "code"
            for line in "".join(cell.get("source", "")).splitlines()
            if line.strip()
        ]

    given = set(lines(handed_out or {}))
    return [line for line in lines(notebook) if line not in given and SUSPICIOUS.search(line)]


def isolation_prefix() -> list[str]:
    """``unshare -n`` (no network for the grading process) where this machine allows it, else nothing."""
    unshare = shutil.which("unshare")
    for prefix in ([unshare, "-n"], [unshare, "-r", "-n"]) if unshare else []:
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


def latest_submissions(folder: Path) -> list[dict]:
    """Per student and file: the latest notebook (by modification time), and how many it replaces.

    A notebook in a sub-folder belongs to the student the sub-folder is named after; a notebook at the
    top of ``folder`` is its own student (its file name).
    """
    notebooks = sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    )
    groups: dict[tuple[str, str], list[Path]] = {}
    for path in notebooks:
        relative = path.relative_to(folder)
        student = relative.parts[0] if len(relative.parts) > 1 else path.stem
        groups.setdefault((student, _assignment_hint(path)), []).append(path)
    chosen = []
    for (student, _), paths in sorted(groups.items()):
        paths.sort(key=lambda p: (p.stat().st_mtime, p.name))
        chosen.append({"student": student, "path": paths[-1], "older": len(paths) - 1})
    return chosen


def _assignment_hint(path: Path) -> str:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["metadata"]["otter"]["assignment_name"]
    except Exception:  # noqa: BLE001 - a corrupt file still needs a group of its own
        return path.stem


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Gradebook:
    """The CSV, written a row at a time (thread-safe), with the rows of an earlier run kept for resuming."""

    def __init__(self, path: Path, questions: list[str]):
        self.path, self.lock = path, threading.Lock()
        self.done: dict[tuple[str, str, str], dict] = {}
        if path.exists():
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    self.done[(row["student"], row["submission"], row["sha256"])] = row
        known = [k for row in self.done.values() for k in row if k not in BASE]
        extra = list(dict.fromkeys([*known, *[c for q in questions for c in (q, q + "_max")]]))
        self.columns = BASE + extra
        self._write_all(list(self.done.values()))

    def _write_all(self, rows):
        fresh = self.path.with_suffix(".tmp")
        with open(fresh, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
        fresh.replace(self.path)

    def previous(self, student: str, submission: str, digest: str) -> dict | None:
        return self.done.get((student, submission, digest))

    def add(self, row: dict) -> None:
        with self.lock, open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, fieldnames=self.columns, restval="", extrasaction="ignore").writerow(
                row
            )
            f.flush()


def run_otter(autograder: Path, notebook: Path, time_limit: float, prefix: list[str]) -> dict:
    """One submission through grade_runner.py in a fresh temporary folder; the runner's outcome."""
    with tempfile.TemporaryDirectory(prefix="grading-") as tmp:
        outcome_path = Path(tmp) / "outcome.json"
        work = Path(tmp) / "work"
        work.mkdir()
        env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "TMPDIR": str(work),
            "HOME": str(work),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
        }
        command = [
            *prefix,
            sys.executable,
            str(RUNNER),
            str(autograder),
            str(notebook),
            str(outcome_path),
            str(time_limit),
        ]
        process = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        RUNNING.add(process)
        try:
            output, _ = process.communicate(
                timeout=time_limit + 300
            )  # the runner's own limits come first
        except subprocess.TimeoutExpired:
            stop(process)
            return {
                "error": f"grading stopped after {time_limit + 300:g} s (the tests themselves hung)"
            }
        finally:
            RUNNING.discard(process)
        if outcome_path.exists():
            return json.loads(outcome_path.read_text(encoding="utf-8"))
        return {
            "error": "the grader stopped without a result: "
            + (output.strip().splitlines() or ["?"])[-1]
        }


def stop(process) -> None:
    """Kill a grading process and everything it started (its kernel)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def feedback_text(row: dict, outcome: dict) -> str:
    """What a student reads: the score, each question, failed tests with messages (hidden ones by name)."""
    lines = [f"{row['assignment']}: {row['score']} / {row['max_score']}  ({row['submission']})", ""]
    if row["error"]:
        lines += [f"Not graded: {row['error']}", ""]
    for cell in outcome.get("timed_out", []):
        lines.append(f"Stopped after the time limit: {cell}; the notebook went on without it.")
    for name, question in sorted(outcome.get("questions", {}).items()):
        lines.append(f"{name}: {question['score']:g} / {question['max_score']:g}")
        for case in question["cases"]:
            if case["passed"]:
                continue
            if case["hidden"]:
                lines.append(f"  - hidden test {case['name']} failed")
            else:
                lines.append(
                    f"  - test {case['name']} failed: " + case["message"].replace("\n", "\n    ")
                )
    return "\n".join(lines).rstrip() + "\n"


def generated(out: Path) -> dict[str, tuple[Path, Path]]:
    """``{assignment: (autograder zip, handed-out student notebook)}`` found under ``out``."""
    found = {}
    for folder in sorted(Path(out).glob("*/autograder")):
        zips = sorted(folder.glob("*.zip"))
        if zips:
            name = folder.parent.name
            found[name] = (zips[-1], folder.parent / "student" / f"{name}.ipynb")
    return found


def identify(path: Path, known) -> tuple[str, dict | None, str]:
    """(assignment, notebook, problem): the assignment from otter's metadata or the file name."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
            raise ValueError("no cells")
    except (ValueError, UnicodeDecodeError) as error:
        notebook, problem = None, f"not a notebook (corrupt or not JSON: {str(error)[:120]})"
    else:
        problem = ""
        name = notebook.get("metadata", {}).get("otter", {}).get("assignment_name")
        if name:
            return name, notebook, "" if name in known else f"no autograder for assignment {name!r}"
    for name in sorted(known, key=len, reverse=True):
        if path.stem == name or path.stem.startswith((name + "_", name + "-")):
            return name, notebook, problem
    return (
        "",
        notebook,
        problem or "cannot tell which assignment it is (no otter metadata, no known file name)",
    )


def grade_submission(
    entry: dict, assignments: dict, time_limit: float, prefix: list[str]
) -> tuple[dict, dict]:
    """Grade one submission: its CSV row and the runner's outcome (for the feedback file)."""
    path = entry["path"]
    row = {
        "student": entry["student"],
        "submission": str(path),
        "sha256": sha256(path),
        "older_submissions": entry["older"],
        "score": 0.0,
        "max_score": 0.0,
        "public_passed": False,
        "flagged": "",
        "timed_out": "",
        "error": "",
    }
    name, notebook, problem = identify(path, assignments)
    row["assignment"] = name
    maxima = questions_of(str(assignments[name][0])) if name in assignments else {}
    row["max_score"] = sum(maxima.values())
    for question, points in maxima.items():
        row[question], row[question + "_max"] = 0.0, points
    if problem:
        row["error"] = problem
        return row, {}
    handed_out = (
        json.loads(assignments[name][1].read_text(encoding="utf-8"))
        if assignments[name][1].exists()
        else None
    )
    flagged = suspicious_lines(notebook, handed_out)
    row["flagged"] = " | ".join(flagged)[:500]
    outcome = run_otter(assignments[name][0], path, time_limit, prefix)
    row["timed_out"] = "; ".join(outcome.get("timed_out", []))
    if outcome.get("error"):
        row["error"] = outcome["error"]
        return row, outcome
    public = True
    for question, result in outcome["questions"].items():
        if question not in maxima:
            continue  # otter's pseudo-tests ("Autograder Failed"...) are not questions
        row[question] = result["score"]
        row["score"] += result["score"]
        public &= all(c["passed"] for c in result["cases"] if not c["hidden"])
    row["public_passed"] = public
    return row, outcome


def grade(
    submissions,
    csv_path=None,
    out=None,
    jobs: int = 1,
    time_limit: float = TIME_LIMIT,
    isolate: bool = True,
    log=print,
) -> list[dict]:
    """Grade the latest submission of every student under ``submissions``, resuming an earlier run.

    Parameters
    ----------
    submissions : folder of submitted notebooks (a sub-folder per student, or a flat folder)
    csv_path : the gradebook (default ``submissions/scores.csv``); a row already in it for the same
        file with the same contents is kept, not graded again
    out : the folder of generated assignments (``python3 dev.py assign``)
    jobs : submissions graded at once
    time_limit : seconds a submission's cells may run; a cell still running then is interrupted
    isolate : run each grading without network (``unshare -n``) where the machine allows it
    log : called with each line of the run's log (also appended to ``<csv>.log``)
    """
    folder = Path(submissions)
    if not folder.is_dir():
        raise ValueError(f"submissions must be a folder of .ipynb files, got {str(folder)!r}")
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    entries = latest_submissions(folder)
    if not entries:
        raise ValueError(f"no .ipynb file under {folder}")
    assignments = generated(out)
    csv_path = Path(csv_path) if csv_path else folder / "scores.csv"
    questions = [q for name in assignments for q in questions_of(str(assignments[name][0]))]
    book = Gradebook(csv_path, questions)
    feedback = csv_path.with_name(csv_path.stem + "_feedback")
    feedback.mkdir(exist_ok=True)
    log_file = csv_path.with_suffix(".log")
    prefix = isolation_prefix() if isolate else []

    def note(line):
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}"
        with book.lock, open(log_file, "a", encoding="utf-8") as f:
            f.write(stamped + "\n")
        log(line)

    note(
        f"grading {len(entries)} submissions from {folder} (time limit {time_limit:g} s, "
        f"{'no network: ' + ' '.join(Path(p).name for p in prefix) if prefix else 'network not isolated'})"
    )
    rows, todo = [], []
    for entry in entries:
        kept = book.previous(entry["student"], str(entry["path"]), sha256(entry["path"]))
        (rows if kept else todo).append(kept or entry)
    if rows:
        note(f"resuming: {len(rows)} already graded in {csv_path.name}")

    def one(entry):
        started = time.monotonic()
        row, outcome = grade_submission(entry, assignments, time_limit, prefix)
        if STOPPING.is_set():
            return None
        name = f"{row['student']}__{row['assignment'] or Path(row['submission']).stem}.txt"
        (feedback / name).write_text(feedback_text(row, outcome), encoding="utf-8")
        book.add(row)
        status = (
            f"ERROR {row['error']}" if row["error"] else f"{row['score']:g} / {row['max_score']:g}"
        )
        extra = (" FLAGGED" if row["flagged"] else "") + (
            " (timed out: " + row["timed_out"] + ")" if row["timed_out"] else ""
        )
        note(
            f"{row['student']} {Path(row['submission']).name} ({row['assignment'] or '?'}): {status}{extra} "
            f"[{time.monotonic() - started:.0f} s]"
        )
        return row

    STOPPING.clear()
    pool = ThreadPoolExecutor(max(1, jobs))
    try:
        for future in as_completed([pool.submit(one, entry) for entry in todo]):
            rows.append(future.result())
    except KeyboardInterrupt:
        STOPPING.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(RUNNING):
            stop(process)
        note(f"interrupted: {len(rows)} rows in {csv_path.name}; the same command resumes")
        raise
    pool.shutdown()
    note(f"scores in {csv_path}, feedback in {feedback}")
    return rows
