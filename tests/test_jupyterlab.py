"""A chapter opened in a real JupyterLab (with jupyterlab-myst, as ``python3 dev.py lab`` installs it)
shows the numbers of its prose after Run All, not their source.

Skipped, with the reason, without JupyterLab and jupyterlab-myst (``python3 dev.py lab`` installs them)
or without Chromium; REQUIRE_JUPYTERLAB=1 makes that a failure. The screenshot lands in
``_build/screenshots/jupyterlab_CHAPTER.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHAPTER = "batch"  # glued numbers from the first Markdown cells on, executes in seconds

pytestmark = pytest.mark.slow


def _missing() -> str:
    try:
        import jupyterlab  # noqa: F401
        import jupyterlab_myst  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed: python3 dev.py lab installs JupyterLab and jupyterlab-myst"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_JUPYTERLAB") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "book" / f"{CHAPTER}.ipynb", folder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page (JupyterLab 4 otherwise renders only the cells on screen)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = folder / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(folder / ".config"),
        JUPYTER_RUNTIME_DIR=str(folder / ".runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(folder / ".settings"),
        HOME=str(folder),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--LabApp.expose_app_in_browser=True",
            "--allow-root",
            f"--ServerApp.root_dir={folder}",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status"


def test_chapter_in_jupyterlab_shows_its_numbers(lab):
    from playwright.sync_api import sync_playwright

    cells = json.loads((ROOT / "book" / f"{CHAPTER}.ipynb").read_text())["cells"]
    quoted = [
        m
        for c in cells
        if c["cell_type"] == "markdown"
        for m in re.findall(r"\{eval\}`([^`]+)`", "".join(c["source"]))
    ]
    assert quoted, "the chapter quotes glued numbers"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{lab}/lab/tree/{CHAPTER}.ipynb?reset")
        page.wait_for_function(
            f"() => window.jupyterapp?.shell.currentWidget?.sessionContext && {KERNEL} === 'idle'",
            timeout=180_000,
        )
        before = page.locator(".jp-Notebook").inner_text()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        started, text = time.time(), before
        while time.time() - started < 300:
            time.sleep(2)
            text = page.locator(".jp-Notebook").inner_text()
            if page.evaluate(f"() => {KERNEL}") == "idle" and "glued[" not in text:
                break
        anchor = page.locator(".jp-MarkdownCell").filter(has_text="%").first
        anchor.scroll_into_view_if_needed()
        time.sleep(1)
        page.screenshot(path=str(shots / f"jupyterlab_{CHAPTER}.png"))
        browser.close()
    assert "glued[" in before, "before running, the prose shows the expressions"
    assert "{glue" not in text and "{eval}" not in text, "the prose shows roles' source"
    assert "glued[" not in text, "an inline expression was not evaluated"
    assert re.search(r"\d+\.\d%", text), "numbers appear in the prose"
