"""Write the student edition's Jupyter Book configuration (``python3 dev.py student-book`` runs this).

    python book/_ext/student_config.py ROOT OUT

Reads ROOT/_config.yml and writes OUT: the same book with sphinx-exercise's ``hide_solutions`` on,
plus the extension in this folder that hides gated solutions too, sharing the main build's execution
cache; no launch buttons, no repository button and no source downloads (the .ipynb sources, and the
repository behind the button, hold the solutions and the assignments' masters).
"""

from __future__ import annotations

import os
import sys

import yaml


def student_config(root: str) -> dict:
    """The student edition's configuration, from the book's own ``_config.yml`` under ``root``."""
    with open(os.path.join(root, "_config.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["title"] = config["title"] + " (student edition)"
    config.setdefault("execute", {})["cache"] = os.path.join(root, "_build", ".jupyter_cache")
    sphinx = config.setdefault("sphinx", {})
    sphinx["recursive_update"] = True  # add to the theme's options, not replace them
    extensions = sphinx.setdefault("local_extensions", {})
    for (
        name,
        path,
    ) in extensions.items():  # this config lives in _build/student: paths from the root
        extensions[name] = os.path.join(root, path)
    extensions["hide_gated_solutions"] = os.path.join(root, "book", "_ext")
    config["launch_buttons"] = {
        "binderhub_url": "",
        "colab_url": "",
    }  # they open the sources, solutions and all
    config.setdefault("html", {}).update(
        use_repository_button=False, use_edit_page_button=False, use_issues_button=False
    )
    options = sphinx.setdefault("config", {})
    options["hide_solutions"] = True
    options["html_copy_source"] = False  # the .ipynb sources carry the solutions
    theme = options.setdefault("html_theme_options", {})
    theme.update(use_download_button=False, use_repository_button=False)
    return config


if __name__ == "__main__":
    root, out = sys.argv[1], sys.argv[2]
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(student_config(root), f, sort_keys=False)
