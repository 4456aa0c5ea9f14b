"""Execute the book's notebooks that the execution cache lacks, a kernel per core, before Sphinx runs.

    python book/_ext/execute_notebooks.py BOOK_ROOT CACHE_DIR

CACHE_DIR is myst-nb's default execution cache of the build; ``execute: cache:`` in ``_config.yml`` wins.

Jupyter Book 1 (myst-nb's ``cache`` mode) executes stale notebooks one after another while Sphinx
reads them. This fills the same jupyter-cache first, with the notebooks run side by side, each in
its own folder as myst-nb runs them, so that the build then finds every notebook cached.

Now and then (about one run in six of the decision guide, at its widget cell) the kernel's
``execute_reply`` sits in the client's shell socket while the client's asyncio poll of that
socket never wakes: the kernel idle, the client waiting for ever (nbclient issue #312). So the
client's channels poll in slices of ``POLL_SLICE`` seconds (:func:`poll_in_slices`): a message
missed by one wake-up is read at the end of the slice. As a last resort, each notebook runs in a
process of its own under a watchdog: an execution that has not ended after ``WATCHDOG`` seconds
is killed with its kernel and run once more.
A notebook that fails here is left out of the cache: the build executes it again and reports
its error as it always does.

jupyter-cache keys a notebook by its code alone, but the chapters' outputs come from the package
too: when the package's source changed since the cache was filled (:func:`package_fingerprint`),
the cache is emptied and every notebook runs again, so that no page shows a figure of old code.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

WATCHDOG = 600  # seconds for a whole notebook, far above the slowest chapter on a busy machine
POLL_SLICE = 1.0  # seconds: the longest a missed wake-up of the client's poll can delay a message
PACKAGE = "deployment_modes"  # the chapters' companion package, beside book/
STAMP = (
    "package.sha256"  # in the cache's folder: the package's fingerprint when the cache was filled
)


def poll_in_slices() -> None:
    """Make jupyter_client's asyncio channels poll at most ``POLL_SLICE`` s at a time (same results).

    ``get_msg(timeout)`` still returns the next message or raises ``queue.Empty`` after ``timeout``
    (``None``: wait for ever), but a poll whose wake-up was missed ends with its slice, and the
    poll that ends a slice asks the socket itself whether a message is waiting.
    """
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else max(0.0, deadline - time.monotonic())
            if await self.socket.poll(int(1000 * min(POLL_SLICE, left))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    AsyncZMQSocketChannel.get_msg = get_msg


def toc_notebooks(root: Path) -> list[Path]:
    """The notebooks that ``_toc.yml`` lists: ``.ipynb`` files and MyST Markdown notebooks (``intro.md``)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    files = []

    def walk(node):
        if isinstance(node, dict):
            files.extend(node[key] for key in ("root", "file") if key in node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    notebooks = []
    for name in files:
        ipynb, md = (root / name).with_suffix(".ipynb"), (root / name).with_suffix(".md")
        if ipynb.is_file():
            notebooks.append(ipynb)
        elif md.is_file() and is_myst_markdown_notebook(md.read_text()):
            notebooks.append(md)
    return notebooks


def read_notebook(path: Path):
    """A notebook as myst-nb reads it (a MyST Markdown page too), so that the cache matches it."""
    if path.suffix == ".md":
        from myst_nb.core.read import read_myst_markdown_notebook

        return read_myst_markdown_notebook(path.read_text(), path=path)
    return nbformat.read(path, as_version=4)


def execute(notebook, path: Path, timeout: int = 600) -> None:
    """Execute ``notebook`` (read from ``path``) in its folder, as myst-nb does; its outputs fill it.

    nbclient directly, as jupyter-cache's ``single_nb_execution`` runs it (a notebook's own
    ``execution`` metadata wins), without importing jupyter-cache and SQLAlchemy in every child.
    Once the last cell has answered, the kernel is killed with its process group (nbclient's
    ``shutdown_kernel="immediate"``) rather than asked to shut down: every output is already in,
    and a kernel's orderly exit, freeing every module it loaded, costs ~1 CPU s per notebook.
    The notebooks start servers only in the kernel's process group (they die with it) and
    leave no temporary file to an exit handler.
    """
    import nbclient

    options = {"timeout": timeout, "allow_errors": False}
    own = notebook.metadata.get("execution", {})
    options.update((key, own[key]) for key in options if key in own)
    nbclient.execute(
        notebook,
        cwd=str(path.parent),
        record_timing=False,
        shutdown_kernel="immediate",
        **options,
    )


def execute_one(path: Path, out: Path, timeout: int) -> None:
    """Run one notebook (:func:`execute`) and write it, outputs and all, to ``out``."""
    import traceback

    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    poll_in_slices()
    notebook = read_notebook(path)
    start = time.perf_counter()
    try:
        execute(notebook, path, timeout)
    except (CellExecutionError, CellTimeoutError):
        sys.exit(traceback.format_exc())
    notebook.metadata["execution_seconds"] = time.perf_counter() - start
    nbformat.write(notebook, out)


def run_watched(path: Path, timeout: int, attempts: int = 2):
    """Execute ``path`` in a child process under the watchdog: the executed notebook, or an error text."""
    for attempt in range(1, attempts + 1):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / path.name
            child = subprocess.Popen(
                [sys.executable, __file__, "--one", str(path), str(out), str(timeout)],
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its kernel too: the watchdog kills the whole group
            )
            try:
                _, errors = child.communicate(timeout=WATCHDOG)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                print(
                    f"{path.name}: no end after {WATCHDOG} s (attempt {attempt}), killed",
                    flush=True,
                )
                continue
            if child.returncode == 0:
                return nbformat.read(out, as_version=4)
            return errors.strip().splitlines()[-1] if errors.strip() else "failed"
    return f"no end after {attempts} attempts of {WATCHDOG} s"


def stale(cache, notebooks: list[Path]) -> list[Path]:
    """The notebooks whose code the cache has not executed yet."""
    missing = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(read_notebook(path))
        except KeyError:
            missing.append(path)
    return missing


def package_fingerprint(root: Path) -> str:
    """A hash of the package's Python source (``PACKAGE`` under ``root``): names and contents."""
    digest = hashlib.sha256()
    for path in sorted((root / PACKAGE).rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_for(root: Path, cache_dir: Path):
    """The execution cache at ``cache_dir``, emptied first if the package changed since it was filled."""
    from jupyter_cache import get_cache

    cache, stamp, fingerprint = (
        get_cache(str(cache_dir)),
        cache_dir / STAMP,
        package_fingerprint(root),
    )
    if not (stamp.exists() and stamp.read_text() == fingerprint):
        if cache_dir.exists():
            cache.clear_cache()
        cache = get_cache(str(cache_dir))
        cache_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint)
    return cache


def main(root: Path, cache_dir: Path) -> None:
    from jupyter_cache.base import CacheBundleIn

    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    execute_config = config.get("execute") or {}
    timeout = int(execute_config.get("timeout", 600))
    cache = cache_for(root, Path(execute_config.get("cache") or cache_dir))  # _config.yml wins
    todo = sorted(stale(cache, toc_notebooks(root)), key=lambda p: -p.stat().st_size)
    if not todo:
        return
    workers = min(len(todo), os.cpu_count() or 1)
    print(f"executing {len(todo)} notebooks, {workers} at a time", flush=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for path, result in zip(todo, pool.map(lambda p: run_watched(p, timeout), todo)):
            if isinstance(result, str):
                print(f"{path.name} failed here ({result}); the build runs it again", flush=True)
                continue
            seconds = result.metadata.pop("execution_seconds")
            cache.cache_notebook_bundle(
                CacheBundleIn(result, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"{path.relative_to(root)}: {seconds:.1f} s", flush=True)
    print(f"executed in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        execute_one(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
