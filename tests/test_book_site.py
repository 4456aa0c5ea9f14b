"""The book's JavaScript set-up: local copies when dev.py could install them, the CDN otherwise."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "book" / "_assets"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book_site = _load("book_site", ASSETS / "book_site.py")
sys.path.insert(0, str(ROOT))
dev = _load("dev", ROOT / "dev.py")


def _config():
    return SimpleNamespace(
        html_static_path=[],
        mermaid_use_local="",
        nb_ipywidgets_js={"cdn.js": {}},
        html_context={},
        myst_substitutions={},
        html_theme_options={
            "repository_url": "https://example.org/course/",
            "repository_branch": "main",
        },
    )


def _fake_static(tmp_path, with_scripts: bool) -> Path:
    static = tmp_path / "static"
    for name in (book_site.MERMAID, book_site.REQUIRE, book_site.WIDGETS) if with_scripts else ():
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_text("// js")
    static.mkdir(exist_ok=True)
    return static


def test_local_scripts_are_used_when_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(book_site, "STATIC", _fake_static(tmp_path, with_scripts=True))
    config = _config()
    book_site._configure(None, config)
    assert config.mermaid_use_local == book_site.MERMAID
    assert list(config.nb_ipywidgets_js) == [
        book_site.REQUIRE,
        book_site.REQUIRE_CONFIG,
        book_site.WIDGETS,
    ]
    assert config.html_static_path == [str(book_site.STATIC)]


def test_the_cdn_stays_when_the_scripts_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(book_site, "STATIC", _fake_static(tmp_path, with_scripts=False))
    config = _config()
    book_site._configure(None, config)
    assert config.mermaid_use_local == "" and config.nb_ipywidgets_js == {"cdn.js": {}}


def test_the_repository_address_reaches_the_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(book_site, "STATIC", _fake_static(tmp_path, with_scripts=False))
    config = _config()
    book_site._configure(None, config)
    assert config.myst_substitutions["repository_url"] == "https://example.org/course"
    assert (
        "git+https://example.org/course@main" in config.myst_substitutions["pip_install_repository"]
    )
    assert config.html_context["default_mode"] == "light"


def test_the_committed_require_config_is_served():
    assert (ASSETS / "static" / book_site.REQUIRE_CONFIG).is_file()


def test_dev_copies_every_script_the_extension_serves():
    served = {f"{dev.VENDOR.name}/{target}" for target in dev.VENDORED.values()}
    for name in (book_site.MERMAID, book_site.REQUIRE, book_site.WIDGETS):
        assert any(name == s or name.startswith(s + "/") for s in served), name
    assert dev.VENDOR.parent == book_site.STATIC


def test_the_lock_pins_what_package_json_asks_for():
    wanted = json.loads((ASSETS / "package.json").read_text())["dependencies"]
    lock = json.loads((ASSETS / "package-lock.json").read_text())["packages"]
    for name, version in wanted.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name
    assert "registry" not in (ASSETS / "package-lock.json").read_text().replace(
        "settingregistry", ""
    )


def test_the_install_stamp_covers_the_lock():
    assert "book/_assets/package-lock.json" in dev.INSTALL_FILES


def test_without_npm_the_setup_goes_on_and_copies_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev, "VENDOR", tmp_path / "book_js")
    assert dev.vendor_js() is False
    assert not (tmp_path / "book_js").exists()
    assert "CDN" in capsys.readouterr().out


def test_when_npm_fails_the_setup_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dev.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(dev.subprocess, "call", lambda *a, **k: 1)  # e.g. no registry
    monkeypatch.setattr(dev, "VENDOR", tmp_path / "book_js")
    assert dev.vendor_js() is False
    assert not (tmp_path / "book_js").exists()
    assert "npm ci failed" in capsys.readouterr().out
