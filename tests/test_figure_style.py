"""Figures are readable as rendered: the course style's text is as large as the page's body text,
no figure is wider than the book's text column, and no plotting code or notebook asks for smaller
text. (tests/test_browser.py measures the same on the built pages, at 1280 and 412 px.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.font_manager import FontProperties
from river import metrics
from sklearn.linear_model import LogisticRegression

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import deployment_modes as dm  # noqa: E402
from deployment_modes import (  # noqa: E402
    data_figures,
    figure_style,
    plots,
    server_figures,
    sweep_figures,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
BODY_PX = 16  # the theme's body text, in CSS px
COLUMN_PX = 672  # the theme's text column in a 1280-px window
FONT_KEYS = [
    "font.size",
    "axes.titlesize",
    "axes.labelsize",
    "xtick.labelsize",
    "ytick.labelsize",
    "legend.fontsize",
    "legend.title_fontsize",
    "figure.titlesize",
    "figure.labelsize",
]


@pytest.fixture(autouse=True)
def course_style():
    with plt.rc_context():
        plots.course_style()
        yield
    plt.close("all")


def points(size) -> float:
    """A matplotlib font size ('small', 12, None) in points, under the current style."""
    return FontProperties(size=size).get_size_in_points()


def smallest_text(fig) -> tuple[float, str]:
    """The smallest font size (pt) of the visible, non-empty texts of a drawn figure, and that text."""
    fig.canvas.draw()
    texts = [
        t
        for t in fig.findobj(matplotlib.text.Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None
    ]
    smallest = min(texts, key=lambda t: t.get_fontsize())
    return smallest.get_fontsize(), smallest.get_text()


def test_every_font_size_of_the_style_is_at_least_13_pt():
    small = {key: points(plt.rcParams[key]) for key in FONT_KEYS}
    assert all(size >= 13 for size in small.values()), small


def test_the_style_text_is_as_large_as_the_body_text_and_figures_fit_the_column():
    assert plots.TEXT_PT * plots.DPI / 72 >= BODY_PX
    assert plt.rcParams["figure.dpi"] == plots.DPI
    assert plots.WIDTH * plots.DPI <= COLUMN_PX


def drifting_runs():
    sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=400, drift_at=200)
    deployments = {
        "static": dm.BatchDeployment(LogisticRegression()),
        "retrained": dm.BatchDeployment(LogisticRegression(), retrain_every=100),
    }
    return dm.compare(sc, deployments, metrics.Accuracy(), window=50)


FIGURES = {
    "plot_timeline": lambda: plots.plot_timeline(drifting_runs(), warmup=50).figure,
    "plot_concepts": lambda: data_figures.plot_concepts(
        dm.scenarios.drifting_classification(n_initial=100, n_stream=600, drift_at=300), n=50
    ),
    "plot_online_server": lambda: server_figures.plot_online_server(
        pd.DataFrame({"seconds": [0.0, 1.0], "events_seen": [0, 10], "accuracy": [0.9, 0.8]}),
        pd.DataFrame(
            {"sent": [0.1, 0.9], "latency_ms": [1.0, 2.0], "y_pred": [0, 1], "ok": [True, True]}
        ),
        1,
        drift_events=5,
    ),
    "plot_seed_bands": lambda: (
        plots.plot_seed_bands(
            {0: drifting_runs(), 1: drifting_runs()}, metric_name="accuracy", warmup=50
        ).figure
    ),
    "plot_drift_kinds": lambda: plots.plot_drift_kinds(
        dm.retraining.run_drift_kinds(seeds=[0], n_stream=200, drift_at=80, width=40),
        width=40,
        warmup=20,
    ),
    "plot_retrain_sweep": lambda: sweep_figures.plot_retrain_sweep(
        pd.DataFrame(
            {
                "retrain_every": [0, 250, 500],
                **{f"{m} {k}": [0.5, 0.7, 0.8] for m in ("a", "r") for k in ("mean", "min", "max")},
            }
        ),
        columns={"a": "accuracy", "r": "rows"},
    ),
    "plot_redeploys": lambda: server_figures.plot_redeploys(
        {
            "naive": (
                pd.DataFrame(
                    {
                        "sent": [0.0, 0.1, 0.2],
                        "latency_ms": [1.0, 0.0, 1.0],
                        "ok": [True, False, True],
                    }
                ),
                (0.05, 0.15),
            )
        }
    ),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_figure_drawn_in_the_course_style_has_no_small_text_and_fits_the_column(name, tmp_path):
    fig = FIGURES[name]()
    size, text = smallest_text(fig)
    assert size >= 13, f"{name}: {text!r} is drawn at {size} pt"
    fig.savefig(tmp_path / "f.png", bbox_inches="tight")  # as the notebooks' inline backend does
    width = plt.imread(tmp_path / "f.png").shape[1]
    assert width <= COLUMN_PX, f"{name} is {width} px wide, wider than the column"


def test_draw_lines_tells_coinciding_lines_apart():
    fig, ax = plt.subplots()
    x = np.arange(100)
    lines = plots.draw_lines(ax, {"a": (x, x), "b": (x, x)})
    styles = {(line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(styles) == 2
    first, second = (line.get_markevery()[0] for line in lines)
    assert first != second  # the markers of the second line fall between those of the first


# Code that asks matplotlib for smaller text: a relative size below "medium", a size under 13 pt,
# or rcParams (font sizes, dpi) set outside course_style.
RELATIVE = r"""["'](xx-small|x-small|small|smaller)["']"""
SMALL_FONT = re.compile(
    rf"""(fontsize|labelsize|titlesize)\s*=\s*({RELATIVE}|(?P<pt>\d+(\.\d+)?)\b)|\bsize\s*=\s*{RELATIVE}"""
)
OWN_STYLE = re.compile(r"""rcParams(\[|\.update)|["']figure\.dpi["']|["']font\.size["']""")


def small_fonts(source: str) -> list[str]:
    found = []
    for match in SMALL_FONT.finditer(source):
        number = match.group("pt")
        if number is None or float(number) < 13:
            found.append(match.group(0))
    return found


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_no_plotting_code_asks_for_small_text():
    for path in (ROOT / "deployment_modes").glob("*.py"):
        found = small_fonts(path.read_text())
        assert not found, f"{path.name}: {found}"
        if path.name != "figure_style.py":  # course_style sets the style, once, for every figure
            assert not OWN_STYLE.search(path.read_text()), f"{path.name} sets its own style"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_draws_in_the_course_style(path):
    cells = code_cells(path)
    # the set-up cell: the first to import the package as dm (out_of_core's first cell only starts
    # Experiment 2's measuring process, so that it imports while the set-up cell does)
    setup = next((source for source in cells if "import deployment_modes as dm" in source), "")
    assert "dm.plots.course_style()" in setup, f"{path.name}: its set-up cell must call it"
    for source in cells:
        assert not small_fonts(source), f"{path.name}: {small_fonts(source)}"
        assert not OWN_STYLE.search(source), f"{path.name} sets its own figure style:\n{source}"
        widths = [float(w) for w in re.findall(r"figsize=\(([\d.]+)", source)]
        assert all(w <= plots.WIDTH for w in widths), f"{path.name}: figures {widths} in wide"


FIGURE_MODULES = [plots, figure_style, data_figures, sweep_figures, server_figures]


def test_every_figure_module_draws_at_the_course_width():
    """The figure modules size their figures from the style's WIDTH, never wider, and are checked above."""
    for module in FIGURE_MODULES:
        source = Path(module.__file__).read_text()
        widths = re.findall(r"figsize=\(([^,]+),", source)
        assert all(w.strip() == "WIDTH" for w in widths), f"{module.__name__}: widths {widths}"


def test_every_figure_is_reached_as_dm_plots_name():
    """The chapters call dm.plots.NAME: plots lists every public figure of the figure modules."""
    for module in FIGURE_MODULES[1:]:
        for name in module.__all__:
            assert name in plots.__all__, f"plots.__all__ lacks {module.__name__}.{name}"
            assert getattr(dm.plots, name) is getattr(module, name)


def test_the_figure_modules_load_matplotlib_only_when_used():
    """A server imports deployment_modes: neither the figure modules nor matplotlib come with it."""
    import subprocess
    import sys

    names = [m.__name__ for m in FIGURE_MODULES]
    code = (
        "import sys, deployment_modes as dm\n"
        f"loaded = [n for n in {names!r} + ['matplotlib'] if n in sys.modules]\n"
        "assert not loaded, loaded\n"
        "dm.server_figures\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_in_a_notebook_kernel_only_the_inline_backend_draws_a_figure_and_shows_it():
    """After course_style, pyplot no longer redraws a cell's figures after the cell (3 draws -> 2).

    The inline backend's draws are two: a dry run that finds the figure's tight box, then the PNG.
    """
    import os
    import subprocess
    import sys

    code = """
from IPython.core.interactiveshell import InteractiveShell
from matplotlib.backends.backend_agg import FigureCanvasAgg
shell = InteractiveShell.instance()
shell.display_formatter.active_types = ["image/png", "text/plain"]
shown, draws, real_draw = [], [], FigureCanvasAgg.draw
shell.display_pub.publish = lambda data, **kw: shown.append(sorted(data))
FigureCanvasAgg.draw = lambda self, *a, **k: (draws.append(1), real_draw(self, *a, **k))[1]
shell.run_cell("import deployment_modes as dm; dm.plots.course_style()")
shell.run_cell("import matplotlib.pyplot as plt; fig, ax = plt.subplots(); ax.plot([1, 2]);")
print("drawn", len(draws), "shown", shown)
"""
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.splitlines()[-1] == "drawn 2 shown [['image/png', 'text/plain']]", out.stderr


def test_in_a_notebook_kernel_the_imports_are_frozen_out_of_the_collector_and_elsewhere_not():
    """course_style moves what is alive at the call out of the collector's reach in a kernel only."""
    import subprocess
    import sys

    code = """
import gc, sys
import deployment_modes as dm
if sys.argv[1] == "kernel":
    from IPython.core.interactiveshell import InteractiveShell
    InteractiveShell.instance()
dm.plots.course_style()
print(gc.get_freeze_count() > 1000)
"""
    for where, frozen in (("kernel", "True"), ("script", "False")):
        out = subprocess.run(
            [sys.executable, "-c", code, where], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == frozen, (where, out.stderr)


def test_plain_log_ticks_names_a_bad_argument_and_changes_nothing():
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    locator = ax.yaxis.get_major_locator()
    with pytest.raises(TypeError, match="axis must be"):
        plots.plain_log_ticks(ax)  # the Axes, not its axis
    for subs in ((), (0.5,), (10,), "abc", None, (float("nan"),)):
        with pytest.raises(ValueError, match="subs must"):
            plots.plain_log_ticks(ax.yaxis, subs=subs)
    assert ax.yaxis.get_major_locator() is locator
    plt.close(fig)
