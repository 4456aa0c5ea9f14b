"""The built book as a reader gets it: its pages, a local server, and one page opened in Chromium.

Used by tests/test_browser.py (the checks) and benchmarks/pages.py (weight and load time).
The server binds 127.0.0.1 on a free port; the browser may reach nothing else (any other request is
aborted and reported), so a page that still needs a CDN fails.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def toc_pages(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page of the table of contents, root first, as paths without suffix (``book/batch``)."""
    data = yaml.safe_load(toc.read_text())
    pages = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return [str(Path(p).with_suffix("")) for p in pages]


def missing_requirements() -> str | None:
    """Why the browser checks cannot run here, or None when they can."""
    if not (HTML / "index.html").is_file():
        return f"no built book in {HTML}: run python3 dev.py book first"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".woff2": "font/woff2",
        ".svg": "image/svg+xml",
    }

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path = HTML):
    """Serve ``directory`` on http://127.0.0.1:PORT/ (a free port) for the ``with`` block; yield the URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright, closed after the ``with`` block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# Evaluated in the page once it has loaded: what has rendered.
_STATE_JS = """() => {
  const shown = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
  const mermaids = [...document.querySelectorAll('pre.mermaid')];
  const visible = mermaids.filter(shown);
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const rendered = views.filter((s) => {
    const area = s.previousElementSibling;
    return area && area.classList.contains('widget-subarea') && area.children.length > 0
        && area.getBoundingClientRect().height > 0;
  });
  return {
    mermaid: mermaids.length,
    mermaid_visible: visible.length,
    mermaid_svg: visible.filter((m) => {
      const svg = m.querySelector('svg');
      return svg && svg.getAttribute('aria-roledescription') !== 'error' && svg.getBoundingClientRect().height > 0;
    }).length,
    widgets: views.length,
    widgets_rendered: rendered.length,
  };
}"""

# polled until true; remembers when it first was (the time to a fully rendered page)
_READY_JS = f"""() => {{
  const s = ({_STATE_JS})();
  const ok = s.mermaid_svg === s.mermaid_visible && s.widgets_rendered === s.widgets;
  if (ok && window.__renderedAt === undefined) window.__renderedAt = performance.now();
  return ok;
}}"""

_IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach((i) => { i.loading = 'eager'; });
  await Promise.all(imgs.map((i) => i.complete ? null : new Promise((ok) => { i.onload = i.onerror = ok; })));
  return imgs.filter((i) => !(i.naturalWidth > 0)).map((i) => i.getAttribute('src'));
}"""

_PAGE_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const bytes = [nav, ...resources].reduce((n, e) => n + (e.encodedBodySize || 0), 0);
  return {
    title: document.title,
    h1: [...document.querySelectorAll('main h1, article h1')].map((h) => h.textContent.trim()),
    empty_headings: [...document.querySelectorAll('main h1, main h2, main h3, main h4')]
        .filter((h) => !h.textContent.replace(/[#¶\\s]/g, '')).length,
    bytes: bytes,
    requests: resources.length + 1,
    load_ms: nav ? nav.loadEventEnd - nav.startTime : null,
    ready_ms: window.__renderedAt === undefined ? null : window.__renderedAt,
  };
}"""


# The rendered size of the text of every visible Mermaid diagram: a label's CSS font size times the scale
# at which its SVG is drawn (its width on screen over its viewBox width), the smallest per diagram.
_DIAGRAM_TEXT_JS = """() => {
  const shown = (el) => el.getClientRects().length > 0;
  return [...document.querySelectorAll('pre.mermaid')].filter(shown).map((pre, index) => {
    const svg = pre.querySelector('svg');
    if (!svg) return {index, min_px: null, labels: 0, text: ''};
    const vb = svg.viewBox && svg.viewBox.baseVal;
    const box = svg.getBoundingClientRect();
    const scale = vb && vb.width ? box.width / vb.width : 1;
    const labels = [...svg.querySelectorAll('.nodeLabel, .edgeLabel, text')]
        .filter((e) => e.textContent.trim() && shown(e) && !e.closest('.edgeLabel:empty'));
    const sizes = labels.map((e) => parseFloat(getComputedStyle(e).fontSize) * scale);
    const smallest = sizes.length ? Math.min(...sizes) : null;
    const which = sizes.length ? labels[sizes.indexOf(smallest)].textContent.trim().slice(0, 40) : '';
    return {index, min_px: smallest, labels: sizes.length, text: which, width: box.width};
  });
}"""


_LABELLED_JS = """() => [...document.querySelectorAll('pre.mermaid')].filter((p) => p.getClientRects().length > 0)
  .every((p) => [...p.querySelectorAll('svg .nodeLabel, svg text')].some((e) => e.textContent.trim()))"""


def offline_context(browser, base_url: str, width: int):
    """A browser context ``width`` px wide whose requests may reach only the book's own server."""
    context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")
    host = urlsplit(base_url).netloc
    context.route(
        "**/*",
        lambda route: (
            route.abort()
            if urlsplit(route.request.url).netloc not in ("", host)
            and urlsplit(route.request.url).scheme in ("http", "https")
            else route.continue_()
        ),
    )
    return context


def diagram_text_sizes(
    browser, base_url: str, page: str, width: int, *, timeout_ms: int = 90_000
) -> list[dict]:
    """The smallest rendered text size (px) of each Mermaid diagram of a page, at a window ``width`` px wide.

    One dict per visible diagram: ``index``, ``min_px`` (None if it did not render), ``labels`` counted,
    ``text`` (the smallest label) and the diagram's ``width`` on screen.
    """
    context = offline_context(browser, base_url, width)
    tab = context.new_page()
    try:
        tab.goto(base_url + page + ".html", wait_until="load", timeout=timeout_ms)
        try:  # every visible diagram is an SVG with its labels drawn (Mermaid inserts the SVG first)
            tab.wait_for_function(_READY_JS, timeout=timeout_ms)
            tab.wait_for_function(_LABELLED_JS, timeout=timeout_ms)
        except Exception:  # a diagram that did not render shows as min_px None
            pass
        return tab.evaluate(_DIAGRAM_TEXT_JS)
    finally:
        context.close()


# Every content image of a page (not the theme's own, in _static/), once loaded: its own width and the width
# it is shown at, and the size of the page's body text.
_FIGURE_SIZES_JS = """async () => {
  const imgs = [...document.querySelectorAll('main img')]
      .filter((i) => !(i.getAttribute('src') || '').includes('_static/'));
  imgs.forEach((i) => { i.loading = 'eager'; });
  await Promise.all(imgs.map((i) => i.complete ? null : new Promise((ok) => { i.onload = i.onerror = ok; })));
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const body = document.querySelector('article p') || document.body;
  return {
    body_px: parseFloat(getComputedStyle(body).fontSize),
    images: imgs.filter((i) => i.naturalWidth > 0 && i.getClientRects().length > 0).map((i) => ({
      src: (i.getAttribute('src') || '').slice(0, 60),
      alt: (i.getAttribute('alt') || '').slice(0, 60),
      natural: i.naturalWidth,
      shown: i.getBoundingClientRect().width,
    })),
  };
}"""


def figure_sizes(
    browser, base_url: str, page: str, width: int, *, timeout_ms: int = 90_000
) -> dict:
    """Every visible content image of a page at a window ``width`` px wide: its own and its shown width.

    Returns ``{"body_px": the body text's size, "images": [{src, alt, natural, shown}, ...]}``, once the
    images, the diagrams and the widgets have rendered.
    """
    context = offline_context(browser, base_url, width)
    tab = context.new_page()
    try:
        tab.goto(base_url + page + ".html", wait_until="load", timeout=timeout_ms)
        try:  # widgets draw their figures once rendered
            tab.wait_for_function(_READY_JS, timeout=timeout_ms)
        except Exception:  # test_page_renders_offline reports what did not render
            pass
        return tab.evaluate(_FIGURE_SIZES_JS)
    finally:
        context.close()


def screenshot_path(page: str) -> Path:
    return SCREENSHOTS / (page.replace("/", "__") + ".png")


def visit(
    browser, base_url: str, page: str, *, screenshot: bool = True, timeout_ms: int = 90_000
) -> dict:
    """Open one page; return what rendered, what went wrong (``problems``), its weight and load time."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    host = urlsplit(base_url).netloc
    problems: list[str] = []

    def guard(route):
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != host:
            problems.append(
                f"request outside the local server (the network must stay unused): {url}"
            )
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on(
        "console",
        lambda m: (
            m.type == "error"
            and problems.append(f"console error: {m.text} ({m.location.get('url', '')})")
        ),
    )
    tab.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    tab.on(
        "requestfailed",
        lambda r: (
            urlsplit(r.url).netloc == host
            and problems.append(f"failed request: {r.url} ({r.failure})")
        ),
    )
    tab.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    try:
        response = tab.goto(base_url + page + ".html", wait_until="load", timeout=timeout_ms)
        if response is None or not response.ok:
            problems.append(f"page did not load: {response.status if response else 'no response'}")
        try:
            tab.wait_for_function(_READY_JS, timeout=timeout_ms)
        except Exception:  # reported below through the state
            pass
        tab.wait_for_load_state("networkidle", timeout=timeout_ms)
        state = tab.evaluate(_STATE_JS)
        info = tab.evaluate(_PAGE_JS)
        broken_images = tab.evaluate(_IMAGES_JS)
        if state["mermaid_svg"] != state["mermaid_visible"]:
            problems.append(
                f"{state['mermaid_visible'] - state['mermaid_svg']} of {state['mermaid_visible']} "
                "Mermaid diagrams did not become an SVG"
            )
        if state["widgets_rendered"] != state["widgets"]:
            problems.append(
                f"{state['widgets'] - state['widgets_rendered']} of {state['widgets']} widgets did not render"
            )
        problems += [f"image did not load: {src}" for src in broken_images]
        if not info["title"].strip():
            problems.append("the page has no title")
        if not info["h1"] or not all(info["h1"]):
            problems.append("the page has no main heading (h1)")
        if info["empty_headings"]:
            problems.append(f"{info['empty_headings']} empty headings")
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(screenshot_path(page)), full_page=True)
        return {"page": page, "problems": problems, **state, **info}
    finally:
        context.close()


_HREF = re.compile(r"""<a\b[^>]*\bhref="([^"]*)\"""")
_ID = re.compile(r"""\bid="([^"]*)\"""")


def internal_links(page: str) -> list[tuple[str, str]]:
    """``(href, problem)`` for every internal link of a built page that leads nowhere."""
    source = HTML / (page + ".html")
    text = source.read_text(encoding="utf-8")
    broken = []
    for href in set(_HREF.findall(text)):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
            continue
        target = (source.parent / parts.path).resolve() if parts.path else source
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append((href, "no such file"))
            continue
        if parts.fragment and target.suffix == ".html":
            ids = set(_ID.findall(target.read_text(encoding="utf-8")))
            if parts.fragment not in ids:
                broken.append((href, f"no id {parts.fragment!r} in {target.relative_to(HTML)}"))
    return sorted(broken)


def navigation(page: str) -> set[str]:
    """The pages the left sidebar of a built page links to, as toc paths (``book/batch``)."""
    source = HTML / (page + ".html")
    text = source.read_text(encoding="utf-8")
    start = text.find("bd-docs-nav")
    block = text[start : text.find("</nav>", start)] if start >= 0 else ""
    found = set()
    for href in _HREF.findall(block):
        path = urlsplit(href).path or source.name  # the current page links to itself as "#"
        if path.endswith(".html"):
            found.add(
                str((source.parent / path).resolve().relative_to(HTML.resolve()).with_suffix(""))
            )
    return found


_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'\b(alt|src)="([^"]*)"')
_FIGURE = re.compile(r"<figure\b.*?</figure>", re.S)


def undescribed_images(page: str) -> list[str]:
    """Content images of a built page with neither a caption nor alt text (myst-nb's default alt is the path).

    A notebook cell gets both with the metadata ``{"mystnb": {"figure": {"caption": ...},
    "image": {"alt": ...}}}``. Images drawn inside a widget (data: URIs) and the theme's own are not counted.
    """
    text = (HTML / (page + ".html")).read_text(encoding="utf-8")
    captioned = {
        m for fig in _FIGURE.findall(text) if "<figcaption" in fig for m in _IMG.findall(fig)
    }
    missing = []
    for tag in _IMG.findall(text):
        attrs = dict(_ATTR.findall(tag))
        src, alt = attrs.get("src", ""), attrs.get("alt", "").strip()
        if src.startswith(("data:", "../_static/", "_static/")) or tag in captioned:
            continue
        if not alt or alt == src:
            missing.append(src)
    return missing


# the tables pandas writes into a cell's output: a DataFrame's (class "dataframe") or a Styler's (id "T_...")
_OUTPUT_TABLE = re.compile(r'<table (?:border="1" class="dataframe"|id="T_)[^>]*>.*?</table>', re.S)
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S)
_UNROUNDED = re.compile(r"^-?[\d,]*\.\d{4,}$")


def table_problems(page: str) -> list[str]:
    """The tables a page's cells print (DataFrames, Stylers) without a caption or with unrounded numbers (4+ decimals),
    and Python object reprs printed where a figure was meant (``<matplotlib.legend.Legend at 0x...>``)."""
    text = (HTML / (page + ".html")).read_text(encoding="utf-8")
    problems = []
    for table in _OUTPUT_TABLE.findall(text):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in _CELL.findall(table)]
        head = " | ".join(c for c in cells[:6] if c)[:80]
        if "<caption" not in table:
            problems.append(f"table without a caption: {head!r}")
        unrounded = [c for c in cells if _UNROUNDED.match(c)]
        if unrounded:
            problems.append(f"unrounded numbers {unrounded[:3]} in the table {head!r}")
    problems += [
        f"printed object: {m}" for m in re.findall(r"&lt;matplotlib\.[\w.]+ (?:at|object)", text)
    ]
    return problems
