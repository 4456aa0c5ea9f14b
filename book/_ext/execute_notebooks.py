"""Execute the book's notebooks that the execution cache lacks, a kernel per core, before Sphinx runs.

    python book/_ext/execute_notebooks.py BOOK_ROOT CACHE_DIR

CACHE_DIR is myst-nb's default execution cache of the build; ``execute: cache:`` in ``_config.yml`` wins.

Jupyter Book 1 (myst-nb's ``cache`` mode) executes stale notebooks one after another while Sphinx
reads them. This fills the same jupyter-cache first, with the notebooks run side by side, each in
its own folder as myst-nb runs them, so that the build then finds every notebook cached. A
notebook that fails here is left out of the cache: the build executes it again and reports its
error as it always does.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution


def toc_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` files that ``_toc.yml`` lists."""
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    paths = [(root / f).with_suffix(".ipynb") for f in files]
    return [p for p in paths if p.is_file()]


def execute(path: Path, timeout: int):
    """Run one notebook in its folder: ``(path, notebook with outputs, seconds, error or None)``."""
    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    return path, notebook, result.time, None if result.err is None else result.exc_string


def stale(cache, notebooks: list[Path]) -> list[Path]:
    """The notebooks whose code the cache has not executed yet."""
    missing = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            missing.append(path)
    return missing


def main(root: Path, cache_dir: Path) -> None:
    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    execute_config = config.get("execute") or {}
    timeout = int(execute_config.get("timeout", 600))
    cache = get_cache(
        str(execute_config.get("cache") or cache_dir)
    )  # as _config.yml says, if it does
    todo = sorted(stale(cache, toc_notebooks(root)), key=lambda p: -p.stat().st_size)
    if len(todo) < 2:
        return  # nothing to run side by side: the build executes what is left
    workers = min(len(todo), os.cpu_count() or 1)
    print(f"executing {len(todo)} notebooks, {workers} at a time", flush=True)
    start = time.perf_counter()
    # fresh processes, not forks of this one (which has loaded zmq and sqlite)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in as_completed([pool.submit(execute, path, timeout) for path in todo]):
            path, notebook, seconds, error = done.result()
            name = path.relative_to(root)
            if error is not None:
                print(
                    f"{name} failed here; the build runs it again and reports the error", flush=True
                )
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"{name}: {seconds:.1f} s", flush=True)
    print(f"executed in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
