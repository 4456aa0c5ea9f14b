"""``jupyter-book`` whose Sphinx reads and writes the pages a process per core.

    python book/_ext/jupyter_book_jobs.py build . [jupyter-book options]

Jupyter Book 1's ``build_sphinx`` takes Sphinx's ``jobs`` (``sphinx-build -j``), but its command
line leaves it at 1. Everything else is the ``jupyter-book`` command itself.
"""

import functools
import os

import jupyter_book.sphinx
from jupyter_book.cli.main import main

if __name__ == "__main__":
    jupyter_book.sphinx.build_sphinx = functools.partial(
        jupyter_book.sphinx.build_sphinx, jobs=os.cpu_count() or 1
    )
    main()
