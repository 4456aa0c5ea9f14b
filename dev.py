#!/usr/bin/env python3
"""Set up the course in ./.venv and build or check it. Needs only Python 3.11+.

    python3 dev.py book [jupyter-book options]   build the HTML book into _build/html
    python3 dev.py test [pytest options]         run the tests: package, doctests, notebooks, claims
    python3 dev.py test -m slow                  run the system checks (servers killed, assignments, browser)
    python3 dev.py serve [--port 8000]           serve _build/html on http://127.0.0.1:8000
    python3 dev.py student-book [options]        build the book without solutions into _build/student/_build/html
    python3 dev.py assign [--masters DIR]        generate every assignment's student notebook and autograder
    python3 dev.py grade SUBMISSIONS [-o CSV]    grade a class's submitted notebooks offline, into a CSV (resumes)
    python3 dev.py lab [jupyter lab options]     install JupyterLab and jupyterlab-myst once, open book/ in it
    python3 dev.py prose [--check]               write the notebooks' prose numbers as {eval}`glued["KEY"]`

The first call creates .venv and installs the pinned set (constraints.txt); later calls find
the stamp .venv/.installed matching the install files and install nothing (no network).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
ASSETS = ROOT / "book" / "_assets"  # package.json + package-lock.json: the book's pinned JavaScript
VENDOR = ASSETS / "static" / "book_js"  # served as _static/book_js/ (see book/_assets/book_site.py)
INSTALL_FILES = [
    "pyproject.toml",
    "constraints.txt",
    "book/_assets/package.json",
    "book/_assets/package-lock.json",
]
# what the book serves from the npm packages: file or folder in node_modules -> place under VENDOR
VENDORED = {
    "mermaid/dist/mermaid.esm.min.mjs": "mermaid/mermaid.esm.min.mjs",
    "mermaid/dist/chunks/mermaid.esm.min": "mermaid/chunks/mermaid.esm.min",
    "@jupyter-widgets/html-manager/dist": "html-manager",
    "requirejs/require.js": "require.js",
}


def _install_key() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_FILES:
        path = ROOT / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def run(*args, **kwargs) -> None:
    """Run a command inside the environment (its bin first on PATH); stop on failure."""
    env = dict(
        os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(VENV)
    )
    env.pop("PYTHONPATH", None)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env, **kwargs)
    if code:
        sys.exit(code)


def ensure_loopback() -> None:
    """Bring the loopback interface up where it is down (as in `unshare -n`).

    Notebook kernels, the model server and the browser test talk over 127.0.0.1; a fresh
    network namespace has no network at all, not even loopback, until lo is up.
    """
    import socket

    try:
        with socket.create_server(("127.0.0.1", 0)) as server:
            socket.create_connection(server.getsockname(), timeout=2).close()
        return
    except OSError:
        pass
    import fcntl
    import struct

    get_flags, set_flags, up = 0x8913, 0x8914, 0x1  # SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            flags = struct.unpack(
                "16sh", fcntl.ioctl(s, get_flags, struct.pack("16sh", b"lo", 0))[:18]
            )[1]
            fcntl.ioctl(s, set_flags, struct.pack("16sh", b"lo", flags | up))
        print("loopback was down (no network namespace?): brought 127.0.0.1 up", flush=True)
    except OSError as error:
        print(
            f"warning: 127.0.0.1 is unreachable and could not be brought up ({error})", flush=True
        )


def pip_install(extra: str) -> None:
    """Install the course with the ``extra`` dependencies into .venv, pinned by constraints.txt."""
    run(
        BIN / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-c",
        ROOT / "constraints.txt",
        "-e",
        f"{ROOT}[{extra}]",
    )


def compile_package() -> None:
    """Write the package's bytecode (what pip does for installed packages), where it is stale.

    An editable install leaves it to the first import, and with ``PYTHONDONTWRITEBYTECODE`` set
    (as on some hosts) every process compiles the package again: each kernel, server, memory
    child and test worker (~0.25 CPU s each, ~20 processes in a book build).
    """
    run(BIN / "python", "-m", "compileall", "-q", ROOT / "deployment_modes")


def ensure_env() -> None:
    """Create .venv and install the course into it, unless the stamp says it is done."""
    key = _install_key()
    if STAMP.exists() and STAMP.read_text().strip() == key:
        return
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by any python3
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    print(f"setting up {VENV} (once; later runs reuse it)", flush=True)
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    pip_install("all")
    vendor_js()
    STAMP.write_text(key)


def vendor_js() -> bool:
    """Install the locked npm packages and copy what the book serves into VENDOR; False if it cannot.

    Without npm or without the registry the book still builds: book_site.py then points the pages
    to the CDN, and diagrams and widgets need the network when read.
    """
    npm = shutil.which("npm")
    if npm is None:
        print(
            "note: npm not found; the book will load Mermaid and the widget manager from a CDN",
            flush=True,
        )
        return False
    code = subprocess.call(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ASSETS
    )
    if code:
        print(
            "note: npm ci failed (no registry?); the book will load Mermaid and the widget manager from a CDN;"
            " remove .venv/.installed to try again",
            flush=True,
        )
        return False
    fresh = VENDOR.with_name("book_js.tmp")
    shutil.rmtree(fresh, ignore_errors=True)
    for source, target in VENDORED.items():
        src, dst = ASSETS / "node_modules" / source, fresh / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(
                src,
                dst,
                ignore=shutil.ignore_patterns("*.map", "*.d.ts", "embed.js*", "libembed-amd.js"),
            )
        else:
            shutil.copy2(src, dst)
    shutil.rmtree(VENDOR, ignore_errors=True)
    fresh.rename(VENDOR)  # all or nothing: the book never serves a half-copied folder
    # npm ci installs afresh each time; left in the book's folder, its ~1,500 folders would be
    # walked at every build (sphinx-external-toc globs the whole source folder for pages)
    shutil.rmtree(ASSETS / "node_modules", ignore_errors=True)
    return True


# jupyter-book itself, its Sphinx a process per core
JUPYTER_BOOK = ROOT / "book" / "_ext" / "jupyter_book_jobs.py"


def book(args: list[str]) -> None:
    output = Path(args[args.index("--path-output") + 1]) if "--path-output" in args else ROOT
    # where myst-nb's cache mode looks for executed notebooks
    cache = (ROOT / output).resolve() / "_build" / ".jupyter_cache"
    run(BIN / "python", ROOT / "book" / "_ext" / "execute_notebooks.py", ROOT, cache)
    run(BIN / "python", JUPYTER_BOOK, "build", ".", *args)
    print(
        f"the book is in {ROOT / '_build' / 'html'}; open _build/html/index.html or run: python3 dev.py serve"
    )


def test(args: list[str]) -> None:
    """The tests not marked slow (``-m slow``: the system checks; ``-m ""``: all), a worker per core."""
    parallel = [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "auto"]
    run(
        BIN / "python",
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-cell-timeout=600",
        *parallel,
        "--dist=loadfile",  # a notebook's cells, and a test file's shared fixtures, on one worker
        "-m",
        "not slow",  # a later -m in args wins
        *args,
    )


def serve(args: list[str]) -> None:
    port = args[args.index("--port") + 1] if "--port" in args else "8000"
    print(f"serving the book on http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    run(
        BIN / "python",
        "-m",
        "http.server",
        port,
        "--bind",
        "127.0.0.1",
        "--directory",
        ROOT / "_build" / "html",
    )


STUDENT = ROOT / "_build" / "student"


def student_book(args: list[str]) -> None:
    STUDENT.mkdir(parents=True, exist_ok=True)
    run(BIN / "python", ROOT / "book" / "_ext" / "student_config.py", ROOT, STUDENT / "_config.yml")
    run(
        BIN / "python",
        JUPYTER_BOOK,
        "build",
        ".",
        "--config",
        STUDENT / "_config.yml",
        "--path-output",
        STUDENT,
        *args,
    )
    print(f"the student book (no solutions) is in {STUDENT / '_build' / 'html'}")


def assign(args: list[str]) -> None:
    run(BIN / "python", ROOT / "assignments" / "otter_tasks.py", "assign", *args)


def grade(args: list[str]) -> None:
    run(BIN / "python", ROOT / "assignments" / "otter_tasks.py", "grade", *args)


def lab(args: list[str]) -> None:
    """JupyterLab on book/, with jupyterlab-myst: the chapters' MyST (exercises, {eval} numbers) rendered."""
    probe = subprocess.call(
        [BIN / "python", "-c", "import jupyterlab, jupyterlab_myst"], stderr=subprocess.DEVNULL
    )
    if probe:
        print("installing JupyterLab and jupyterlab-myst into .venv (once)", flush=True)
        pip_install("lab")
    print(
        "in JupyterLab, Run > Run All Cells: the prose's numbers appear as its Markdown cells run",
        flush=True,
    )
    as_root = (
        ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    )  # a container's root
    run(BIN / "jupyter", "lab", ROOT / "book", *as_root, *args)


def prose(args: list[str]) -> None:
    run(BIN / "python", ROOT / "book" / "_ext" / "prose_numbers.py", *args)


COMMANDS = {
    "book": book,
    "test": test,
    "serve": serve,
    "student-book": student_book,
    "assign": assign,
    "grade": grade,
    "lab": lab,
    "prose": prose,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_env()
    ensure_loopback()
    compile_package()
    COMMANDS[sys.argv[1]](sys.argv[2:])
