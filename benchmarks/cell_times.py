"""Where a notebook spends its time: the CPU seconds of each code cell, run in one process.

    .venv/bin/python benchmarks/cell_times.py book/online.ipynb      # one notebook
    .venv/bin/python benchmarks/cell_times.py --all                  # every chapter
    .venv/bin/python benchmarks/cell_times.py --imports              # the package's import cost

The cells run in order in an IPython shell inside this process, as a kernel would run them: the
notebook's folder as the working folder, every output formatted (HTML, PNG), figures drawn by
matplotlib's inline backend after each cell. A cell's CPU is this
process's (``time.process_time``) plus the CPU of the processes the cell started and waited for
(memory measurements in fresh processes, a server). Wall seconds follow the machine's load, so
the CPU seconds are what to compare; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def code_cells(path: Path) -> list[str]:
    """The code cells' sources of a notebook (.ipynb) or a MyST markdown page (.md, via jupytext)."""
    if path.suffix == ".ipynb":
        import nbformat

        notebook = nbformat.read(path, as_version=4)
    else:
        import jupytext

        notebook = jupytext.read(path)
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def cell_seconds(path: Path) -> list[dict]:
    """Run the notebook's code cells in order; each cell's CPU (with children's) and wall seconds."""
    import contextlib
    import io

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    # as a kernel does: every output formatted in every format (HTML tables, PNG figures), and
    # figures drawn by matplotlib's inline backend after each cell
    shell.display_formatter.active_types = list(shell.display_formatter.formatters)
    os.chdir(path.parent)
    with contextlib.redirect_stdout(io.StringIO()):
        shell.run_cell("%matplotlib inline", silent=True)
    rows = []
    for index, source in enumerate(code_cells(path), start=1):
        start_wall, start_cpu, start_children = (
            time.perf_counter(),
            time.process_time(),
            children_cpu(),
        )
        with contextlib.redirect_stdout(io.StringIO()):
            result = shell.run_cell(source, store_history=True)
        own = time.process_time() - start_cpu
        children = children_cpu() - start_children
        first = next((line for line in source.splitlines() if line.strip()), "")
        rows.append(
            {
                "cell": index,
                "cpu": own + children,
                "children": children,
                "wall": time.perf_counter() - start_wall,
                "first_line": first[:60],
            }
        )
        if not result.success:
            raise SystemExit(f"{path.name}: cell {index} failed: {result.error_in_exec!r}")
    return rows


def report(path: Path) -> float:
    rows = cell_seconds(path)
    print(f"\n{path.name}  (load average {os.getloadavg()[0]:.2f})")
    print(f"{'cell':>4} {'cpu s':>7} {'child s':>7} {'wall s':>7}  first line")
    for row in sorted(rows, key=lambda r: -r["cpu"]):
        if row["cpu"] >= 0.05:
            print(
                f"{row['cell']:>4} {row['cpu']:7.2f} {row['children']:7.2f} {row['wall']:7.2f}"
                f"  {row['first_line']}"
            )
    total = sum(r["cpu"] for r in rows)
    print(f"total CPU {total:.2f} s over {len(rows)} cells (in this process, imports included)")
    return total


def import_cost(module: str = "deployment_modes", top: int = 15) -> None:
    """The ``python -X importtime`` cost of importing the package, with its costliest imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match[2]), len(match[3]), match[4]))
    total = next(us for us, _, name in rows if name == module)
    print(f"\nimport {module}: {total / 1e6:.2f} s cumulative (load {os.getloadavg()[0]:.2f})")
    for cumulative, depth, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative / 1e6:6.2f} s  {'.' * (depth // 2)}{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path)
    parser.add_argument("--all", action="store_true", help="every chapter, each in its own process")
    parser.add_argument("--imports", action="store_true", help="the package's import cost")
    args = parser.parse_args()
    if args.imports:
        import_cost()
    if args.notebook:
        report(args.notebook.resolve())
    if args.all:
        pages = sorted(BOOK.glob("*.ipynb")) + [BOOK / "intro.md"]
        for page in pages:
            subprocess.run([sys.executable, __file__, str(page)], check=True)


if __name__ == "__main__":
    main()
