"""Start-up of the rendered book's pages: weight and load time of every page of the table of contents.

Serves _build/html on 127.0.0.1 and opens each page in headless Chromium with the network unused
(tests/site_pages.py), then reports per page the bytes fetched (HTML, CSS, JavaScript, images, fonts),
the number of requests, the time to the load event, and the time until every diagram and widget has
rendered; and which page is the largest. Each page is opened ``--repeat`` times (first visit, cold
cache each time) and the median kept.

    python3 dev.py book && .venv/bin/python benchmarks/pages.py   -> benchmarks/results/pages.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import site_pages as sp  # noqa: E402


def measure(repeat: int = 3) -> dict:
    reason = sp.missing_requirements()
    if reason:
        sys.exit(reason)
    rows = []
    with sp.serve() as url, sp.chromium() as browser:
        for page in sp.toc_pages():
            runs = [sp.visit(browser, url, page, screenshot=False) for _ in range(repeat)]
            problems = sorted({p for r in runs for p in r["problems"]})
            rows.append(
                {
                    "page": page,
                    "bytes": int(statistics.median(r["bytes"] for r in runs)),
                    "requests": int(statistics.median(r["requests"] for r in runs)),
                    "load_ms": round(statistics.median(r["load_ms"] for r in runs), 1),
                    "rendered_ms": round(statistics.median(r["ready_ms"] for r in runs), 1),
                    "mermaid": runs[0]["mermaid"],
                    "widgets": runs[0]["widgets"],
                    "problems": problems,
                }
            )
    largest = max(rows, key=lambda r: r["bytes"])
    slowest = max(rows, key=lambda r: r["rendered_ms"])
    return {
        "what": "every page of _toc.yml served from 127.0.0.1 in headless Chromium, network unused, cold cache; "
        "bytes = encoded bytes of the page and everything it fetched; load_ms = navigation start to the "
        "load event; rendered_ms = navigation start to every diagram and widget rendered (median of "
        f"{repeat} visits)",
        "note": "sizes are uncompressed (Python's http.server sends no gzip); most of every page is the theme's "
        "fontawesome.js (1.5 MB) and CSS, and a page with widgets adds the widget manager (3.6 MB)",
        "largest_page": {
            k: largest[k] for k in ("page", "bytes", "requests", "load_ms", "rendered_ms")
        },
        "slowest_page": {k: slowest[k] for k in ("page", "bytes", "load_ms", "rendered_ms")},
        "pages": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pages.json")
    args = parser.parse_args()
    result = measure(max(1, args.repeat))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for row in result["pages"]:
        print(
            f"{row['page']:<28} {row['bytes'] / 1e6:6.2f} MB {row['requests']:4d} requests "
            f"load {row['load_ms']:7.1f} ms rendered {row['rendered_ms']:7.1f} ms"
            + (f"  PROBLEMS: {row['problems']}" if row["problems"] else "")
        )
    print("largest:", result["largest_page"])


if __name__ == "__main__":
    main()
