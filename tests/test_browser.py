"""The rendered book in a real browser: every page of the table of contents, served on 127.0.0.1.

Headless Debian Chromium (/usr/bin/chromium) driven by Playwright, with the network unused: each page
loads with no console error and no failed request, its Mermaid diagrams become SVGs whose text is
readable (at least 12 px in a 1280-px window, 9 px on a 412-px phone), its figures' text is too (as
large as the body text at 1280 px, at least 12 px on a 412-px phone), its widgets render, its images
load, and it has a title and headings; figures have a caption or alt text. A
screenshot of each page lands in
_build/screenshots/ for a person to look at. Internal links and the navigation are checked on the
built files. Skipped, with the reason, without a built book or Chromium, unless REQUIRE_BROWSER=1
(as in .ci/run), where that is a failure.
"""

from __future__ import annotations

import os

import pytest
import site_pages as sp

from deployment_modes import plots

PAGES = sp.toc_pages()
REASON = sp.missing_requirements()
if REASON and os.environ.get("REQUIRE_BROWSER") == "1":
    pytest.fail(f"REQUIRE_BROWSER=1 but {REASON}", pytrace=False)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


@pytest.fixture(scope="module")
def site():
    with sp.serve() as url, sp.chromium() as browser:
        yield browser, url


def test_every_toc_page_was_built():
    missing = [p for p in PAGES if not (sp.HTML / f"{p}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {sp.HTML}: {missing} (rebuild the book)"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(site, page):
    browser, url = site
    result = sp.visit(browser, url, page)
    assert not result["problems"], f"{page}:\n  " + "\n  ".join(result["problems"])
    assert sp.screenshot_path(page).stat().st_size > 0


# The floors of a readable diagram: node text at least 12 px in a 1280-px window, 9 px on a 412-px phone.
DIAGRAM_FLOORS = {1280: 12.0, 412: 9.0}


@pytest.mark.parametrize("width", sorted(DIAGRAM_FLOORS, reverse=True))
@pytest.mark.parametrize("page", PAGES)
def test_diagram_text_is_readable(site, page, width):
    browser, url = site
    floor = DIAGRAM_FLOORS[width]
    small = [
        d
        for d in sp.diagram_text_sizes(browser, url, page, width)
        if d["min_px"] is None or d["min_px"] < floor
    ]
    assert not small, (
        f"{page} at {width} px: diagrams whose text renders below {floor} px (redraw them "
        "top-down or split them): " + "; ".join(_describe(d) for d in small)
    )


# A figure's text is plots.TEXT_PT at plots.DPI at its own size (16.25 px; tests/test_figure_style.py checks
# that every figure is drawn so); shown narrower, it shrinks with the image. In a 1280-px window it must stay
# as large as the body text (figures fit the column: never shrunk); in a 412-px phone, at least 12 px, the
# floor of book/_assets/static/figures.js (a figure scrolls sideways rather than shrink further).
FIGURE_TEXT_PX = plots.TEXT_PT * plots.DPI / 72
FIGURE_FLOORS = {1280: "body", 412: 12.0}


@pytest.mark.parametrize("width", sorted(FIGURE_FLOORS, reverse=True))
@pytest.mark.parametrize("page", PAGES)
def test_figure_text_is_readable(site, page, width):
    browser, url = site
    sizes = sp.figure_sizes(browser, url, page, width)
    floor = sizes["body_px"] if FIGURE_FLOORS[width] == "body" else FIGURE_FLOORS[width]
    small = [
        f"{f['alt'] or f['src']!r}: {f['natural']} px shown at {f['shown']:.0f} px, text "
        f"{FIGURE_TEXT_PX * f['shown'] / f['natural']:.1f} px"
        for f in sizes["images"]
        if FIGURE_TEXT_PX * f["shown"] / f["natural"] < floor - 0.01
    ]
    assert not small, (
        f"{page} at {width} px: figures whose text renders below {floor:g} px (draw them at most "
        f"plots.WIDTH inches wide, panels stacked): " + "; ".join(small)
    )


def _describe(diagram: dict) -> str:
    size = "not rendered" if diagram["min_px"] is None else f"{diagram['min_px']:.1f} px"
    return f"diagram {diagram['index'] + 1}: {size} ({diagram['text']!r})"


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_lead_somewhere(page):
    broken = sp.internal_links(page)
    assert not broken, f"{page}: broken internal links {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_a_caption_or_alt_text(page):
    missing = sp.undescribed_images(page)
    assert not missing, (
        f"{page}: images with neither caption nor alt text {missing}; in a notebook give the cell "
        '{"mystnb": {"figure": {"caption": ...}, "image": {"alt": ...}}} metadata'
    )


@pytest.mark.parametrize("page", PAGES)
def test_tables_have_a_caption_and_rounded_numbers(page):
    problems = sp.table_problems(page)
    assert not problems, (
        f"{page}: " + "; ".join(problems) + " (show a table with dm.tables.show(frame, caption))"
    )


@pytest.mark.parametrize("page", [PAGES[0], PAGES[-1]])
def test_every_page_is_in_the_navigation(page):
    listed = sp.navigation(page)
    missing = [p for p in PAGES[1:] if p not in listed]
    assert not missing, (
        f"{page}: pages of the table of contents missing from the sidebar: {missing}"
    )


def test_no_built_page_is_outside_the_toc():
    built = {
        str(p.relative_to(sp.HTML).with_suffix("")) for p in (sp.HTML / "book").rglob("*.html")
    }
    assert built <= set(PAGES), (
        f"built pages that no table of contents lists: {sorted(built - set(PAGES))}"
    )
