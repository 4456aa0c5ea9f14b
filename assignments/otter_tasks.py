"""Generate the graded assignments and grade submissions offline, with otter-grader.

    python assignments/otter_tasks.py assign [NAME ...] [--masters DIR] [--no-run-tests] [-j N]
        For every master notebook DIR/NAME.ipynb (default: this folder; or only those named): the
        student notebook (no solutions, no hidden tests) and the autograder zip, whose requirements
        are the course's package and its pinned dependencies, into
        _build/assignments/NAME/{student,autograder}/ (``otter assign``).
    python assignments/otter_tasks.py grade SUBMISSIONS [-o CSV] [-j N] [--time-limit S] [--masters DIR]
        Grade the latest submission of every student under SUBMISSIONS (grading.py: ``otter run``
        per submission, time-limited, without network where the machine allows it) into CSV
        (default SUBMISSIONS/scores.csv), a feedback file per submission and a log; resumes.

``python3 dev.py assign`` and ``python3 dev.py grade`` run this script inside the course's venv.
The functions are also what tests/test_assignments.py uses.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import grading
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
MASTERS = ROOT / "assignments"
OUT = ROOT / "_build" / "assignments"


def masters(names=None, folder=MASTERS) -> dict[str, Path]:
    """The master notebooks in ``folder``, ``{name: path}``; ``names`` picks some (unknown names raise ValueError)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"masters must be a folder of master notebooks, got {str(folder)!r}")
    found = {p.stem: p for p in sorted(folder.glob("*.ipynb"))}
    if names:
        unknown = sorted(set(names) - set(found))
        if unknown:
            raise ValueError(
                f"no master notebook for {unknown}: the assignments are {sorted(found)}"
            )
        found = {n: found[n] for n in names}
    return found


def _otter(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "otter", *map(str, args)], cwd=cwd, capture_output=True, text=True
    )


def autograder_zip(name: str, out: Path = OUT) -> Path:
    """The autograder zip of assignment ``name`` (FileNotFoundError if it was not generated)."""
    zips = sorted((out / name / "autograder").glob("*.zip"))
    if not zips:
        raise FileNotFoundError(
            f"no autograder for {name!r} in {out}: run `python3 dev.py assign` first"
        )
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
        raise RuntimeError(
            f"otter assign {name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    add_course_requirements(autograder_zip(name, out))
    return target


def course_requirements() -> list[str]:
    """The package (from the repository set in _config.yml) and every dependency it needs, pinned.

    Pins are those of constraints.txt (the set the course is tested with) for the package's
    dependencies, followed recursively, without the extras (otter-grader brings its own).
    """
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            pins[_normal(line.split("==")[0].split("[")[0])] = line
    needed, todo = set(), ["deployment-modes"]
    while todo:
        for requirement in map(Requirement, metadata.requires(todo.pop()) or []):
            if requirement.marker and not requirement.marker.evaluate(
                {
                    "extra": "",
                    "python_version": "3.11",
                    "platform_system": "Linux",
                    "sys_platform": "linux",
                }
            ):
                continue  # an extra, or another platform than the autograder's Linux
            name = _normal(requirement.name)
            if name not in needed:
                needed.add(name)
                try:
                    metadata.version(name)
                    todo.append(name)
                except metadata.PackageNotFoundError:
                    pass
    url = repository["url"].rstrip("/")
    return [
        f"deployment-modes @ git+{url}@{repository.get('branch', 'main')}",
        *sorted(pins.get(n, n) for n in needed),
    ]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def add_course_requirements(autograder: Path) -> None:
    """Put the course's requirements into an autograder zip (requirements.txt, after otter's own)."""
    with zipfile.ZipFile(autograder) as zipped:
        files = {info: zipped.read(info.filename) for info in zipped.infolist()}
    own = next(
        (data.decode() for info, data in files.items() if info.filename == "requirements.txt"), ""
    )
    extra = "\n".join(
        [
            "# the course's package and its pinned dependencies (assignments/otter_tasks.py)",
            *course_requirements(),
        ]
    )
    fresh = autograder.with_suffix(".tmp")
    with zipfile.ZipFile(fresh, "w", zipfile.ZIP_DEFLATED) as zipped:
        for info, data in files.items():
            if info.filename != "requirements.txt":
                zipped.writestr(info, data)
        zipped.writestr("requirements.txt", own.rstrip() + "\n" + extra + "\n")
    fresh.replace(autograder)


def generate(
    names=None, out: Path = OUT, run_tests: bool = True, jobs: int = 1, folder=MASTERS
) -> dict[str, Path]:
    """Generate the student notebook and autograder of every (named) assignment of ``folder``."""
    chosen = masters(names, folder)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        folders = pool.map(
            lambda item: generate_one(*item, out=out, run_tests=run_tests), chosen.items()
        )
        return dict(zip(chosen, folders))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    a = commands.add_parser("assign", help="generate student notebooks and autograders")
    a.add_argument("names", nargs="*", help="assignments to generate (default: all)")
    a.add_argument(
        "--no-run-tests", action="store_true", help="do not check the solutions against the tests"
    )
    g = commands.add_parser("grade", help="grade a folder of submissions offline")
    g.add_argument(
        "submissions", help="a folder of submitted .ipynb files: a sub-folder per student, or flat"
    )
    g.add_argument("-o", "--output", help="the CSV to write (default SUBMISSIONS/scores.csv)")
    g.add_argument(
        "--time-limit",
        type=float,
        default=grading.TIME_LIMIT,
        help=f"seconds a submission's cells may run (default {grading.TIME_LIMIT:g})",
    )
    g.add_argument(
        "--no-isolation", action="store_true", help="grade with the network (no unshare -n)"
    )
    for p in (a, g):
        p.add_argument(
            "--masters",
            default=str(MASTERS),
            help="the folder of master notebooks (default: assignments/)",
        )
        p.add_argument(
            "-j", "--jobs", type=int, default=1, help="assignments or submissions at once"
        )
    args = parser.parse_args(argv)
    signal.signal(
        signal.SIGTERM, signal.default_int_handler
    )  # a kill stops like Ctrl-C: no half-written row
    try:
        if args.command == "assign":
            for name, folder in generate(
                args.names, run_tests=not args.no_run_tests, jobs=args.jobs, folder=args.masters
            ).items():
                print(
                    f"{name}: student notebook {folder / 'student' / (name + '.ipynb')}, "
                    f"autograder {autograder_zip(name).name}"
                )
            print("hand out the student notebooks; grade with: python3 dev.py grade SUBMISSIONS")
        else:
            known = masters(folder=args.masters)
            named = {
                grading.identify(path, known)[0] for path in Path(args.submissions).rglob("*.ipynb")
            }
            missing = sorted((named & set(known)) - set(grading.generated(OUT)))
            if missing:
                print(f"generating the autograders of {missing} first", flush=True)
                generate(missing, jobs=args.jobs, folder=args.masters)
            grading.grade(
                args.submissions,
                args.output,
                out=OUT,
                jobs=args.jobs,
                time_limit=args.time_limit,
                isolate=not args.no_isolation,
                log=lambda line: print(line, flush=True),
            )
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: the rows graded so far are in the CSV; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
