"""Generate the graded assignments and grade submissions offline, with otter-grader.

    python assignments/otter_tasks.py assign [NAME ...] [--no-run-tests] [-j N]
        For every master notebook assignments/NAME.ipynb (or only those named): the student
        notebook (no solutions, no hidden tests) and the autograder zip, into
        _build/assignments/NAME/{student,autograder}/ (``otter assign``).
    python assignments/otter_tasks.py grade SUBMISSIONS [-o CSV] [-j N]
        Grade every .ipynb under SUBMISSIONS with its assignment's autograder (``otter run``: no
        Docker, no network) and write one row per submission to CSV (default SUBMISSIONS/scores.csv).

``python3 dev.py assign`` and ``python3 dev.py grade`` run this script inside the course's venv.
The functions are also what tests/test_assignments.py uses.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTERS = ROOT / "assignments"
OUT = ROOT / "_build" / "assignments"


def masters(names=None) -> dict[str, Path]:
    """The master notebooks, ``{name: path}``; ``names`` picks some (unknown names raise ValueError)."""
    found = {p.stem: p for p in sorted(MASTERS.glob("*.ipynb"))}
    if names:
        unknown = sorted(set(names) - set(found))
        if unknown:
            raise ValueError(f"no master notebook for {unknown}: the assignments are {sorted(found)}")
        found = {n: found[n] for n in names}
    return found


def _otter(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "otter", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


def autograder_zip(name: str, out: Path = OUT) -> Path:
    """The autograder zip of assignment ``name`` (FileNotFoundError if it was not generated)."""
    zips = sorted((out / name / "autograder").glob("*.zip"))
    if not zips:
        raise FileNotFoundError(f"no autograder for {name!r} in {out}: run `python3 dev.py assign` first")
    return zips[-1]


def generate_one(name: str, master: Path, out: Path = OUT, run_tests: bool = True) -> Path:
    """``otter assign`` one master notebook into ``out/name``; return that folder."""
    target = out / name
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    args = ["assign", "--no-pdfs", *([] if run_tests else ["--no-run-tests"]), master, target]
    done = _otter(*args, cwd=master.parent)
    failed = done.returncode or "Test case failed" in done.stdout + done.stderr
    if failed:
        raise RuntimeError(f"otter assign {name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return target


def generate(names=None, out: Path = OUT, run_tests: bool = True, jobs: int = 1) -> dict[str, Path]:
    """Generate the student notebook and autograder of every (named) assignment."""
    chosen = masters(names)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        folders = pool.map(lambda item: generate_one(*item, out=out, run_tests=run_tests), chosen.items())
        return dict(zip(chosen, folders))


def assignment_of(notebook: Path) -> str:
    """The assignment a submitted notebook belongs to: otter's metadata, else its file name."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{notebook} is not a notebook: {error}") from None
    name = meta.get("otter", {}).get("assignment_name")
    if name:
        return name
    for known in masters():
        if notebook.stem == known or notebook.stem.startswith(known + "_") or notebook.stem.startswith(known + "-"):
            return known
    raise ValueError(f"{notebook}: cannot tell which assignment it is (no otter metadata, no known name)")


def grade_one(notebook: Path, out: Path = OUT, debug: bool = False) -> dict:
    """Run ``otter run`` on one submission; return its scores.

    The result has ``submission``, ``assignment``, ``score``, ``max_score``, ``public_passed``,
    ``error`` and one ``NAME`` / ``NAME_max`` pair per question. With ``debug``, an error in the
    submission's cells is not ignored (``error`` says what went wrong).
    """
    notebook = Path(notebook).resolve()
    row = {"submission": str(notebook), "assignment": "", "score": 0.0, "max_score": 0.0,
           "public_passed": False, "error": ""}
    try:
        row["assignment"] = assignment_of(notebook)
        ag = autograder_zip(row["assignment"], out)
    except (ValueError, FileNotFoundError) as error:
        row["error"] = str(error)
        return row
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        # under the master's name, which the notebook's first cell (otter.Notebook) opens
        copy = Path(shutil.copy(notebook, Path(tmp) / f"{row['assignment']}.ipynb"))
        done = _otter("run", "--no-logo", *(["--debug"] if debug else []), "-a", ag, "-o", tmp, copy)
        results = Path(tmp) / "results.json"
        if done.returncode or not results.exists():
            message = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr.strip() or done.stdout.strip())
            row["error"] = message[-2000:] or "otter run failed"
            return row
        tests = json.loads(results.read_text())["tests"]
    for test in tests:
        if test["name"] == "Public Tests":
            row["public_passed"] = test.get("status") == "passed"
        else:
            row[test["name"]] = float(test.get("score") or 0.0)
            row[test["name"] + "_max"] = float(test.get("max_score") or 0.0)
            row["score"] += row[test["name"]]
            row["max_score"] += row[test["name"] + "_max"]
    return row


def grade(submissions, csv_path=None, out: Path = OUT, jobs: int = 1, debug: bool = False) -> list[dict]:
    """Grade every ``.ipynb`` under ``submissions`` (a folder); write the rows to ``csv_path``."""
    folder = Path(submissions)
    if not folder.is_dir():
        raise ValueError(f"submissions must be a folder of .ipynb files, got {str(folder)!r}")
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise ValueError(f"no .ipynb file under {folder}")
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        rows = list(pool.map(lambda nb: grade_one(nb, out, debug), notebooks))
    csv_path = Path(csv_path) if csv_path else folder / "scores.csv"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    a = commands.add_parser("assign", help="generate student notebooks and autograders")
    a.add_argument("names", nargs="*", help="assignments to generate (default: all)")
    a.add_argument("--no-run-tests", action="store_true", help="do not check the solutions against the tests")
    a.add_argument("-j", "--jobs", type=int, default=1, help="assignments generated at once")
    g = commands.add_parser("grade", help="grade a folder of submissions offline")
    g.add_argument("submissions", help="a folder of submitted .ipynb files (searched recursively)")
    g.add_argument("-o", "--output", help="the CSV to write (default SUBMISSIONS/scores.csv)")
    g.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once")
    args = parser.parse_args(argv)
    try:
        if args.command == "assign":
            for name, folder in generate(args.names, run_tests=not args.no_run_tests, jobs=args.jobs).items():
                print(f"{name}: student notebook {folder / 'student' / (name + '.ipynb')}, "
                      f"autograder {autograder_zip(name).name}")
            print("hand out the student notebooks; grade with: python3 dev.py grade SUBMISSIONS")
        else:
            named = set()
            for path in Path(args.submissions).rglob("*.ipynb"):
                try:
                    named.add(assignment_of(path))
                except ValueError:
                    pass  # graded as an error row
            missing = sorted((named & set(masters())) - {p.name for p in OUT.glob("*")})
            if missing:
                print(f"generating the autograders of {missing} first", flush=True)
                generate(missing, jobs=args.jobs)
            rows = grade(args.submissions, args.output, jobs=args.jobs)
            for row in rows:
                status = f"ERROR {row['error'].splitlines()[-1]}" if row["error"] else f"{row['score']:g} / {row['max_score']:g}"
                print(f"{Path(row['submission']).name} ({row['assignment'] or '?'}): {status}")
            print(f"scores written to {args.output or Path(args.submissions) / 'scores.csv'}")
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
