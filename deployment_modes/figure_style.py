"""The course's figure style, and the drawing helpers every figure of the course shares.

:func:`course_style` makes every text as large as the page's body text; :func:`draw_lines` keeps
lines that coincide distinguishable; :func:`legend_below` puts a legend under the x-axis;
:func:`plain_log_ticks` writes a log axis's ticks as plain numbers.
Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import gc
import sys

import matplotlib
import matplotlib.pyplot as plt

__all__ = ["course_style", "draw_lines", "legend_below", "plain_log_ticks"]

# The book's text column is 672 px wide in a 1280-px window, and its body text 16 px. At 90 dpi a
# figure WIDTH inches wide is 648 px (never shrunk on a desktop), and 13-pt text is 16.25 px.
DPI = 90


TEXT_PT = 13


WIDTH = 7.2


# The dash patterns and markers that tell the lines of one figure apart (in this order).
LINE_STYLES = ["-", "--", "-.", ":"]


_MARKERS = ["o", "s", "^", "D", "v", "P"]


def course_style() -> None:
    """The chapters' figure style: every text as large as the page's body text (13 pt at 90 dpi is 16 px).

    Every chapter calls it in its set-up cell; a figure :data:`WIDTH` inches wide is then
    648 px, narrower than the book's text column (672 px), so it is shown at its own size.
    In a notebook kernel only the inline backend then draws a figure, to send it (pyplot's own
    redraw after each cell is switched off), and the objects alive at the call (the imports')
    are moved out of the garbage collector's reach (``gc.freeze``): they live as long as the
    kernel, and every full collection would scan them again. Defined in the Batch learning chapter
    (``book/batch.ipynb``); every chapter uses it.

    Examples
    --------
    >>> course_style()
    >>> plt.rcParams["font.size"], plt.rcParams["xtick.labelsize"], plt.rcParams["figure.dpi"]
    (13.0, 13.0, 90.0)
    """
    plt.rcParams.update(
        {
            "figure.dpi": DPI,
            "figure.figsize": (WIDTH, 4.0),
            "font.size": TEXT_PT,
            "axes.titlesize": TEXT_PT,
            "axes.labelsize": TEXT_PT,
            "xtick.labelsize": TEXT_PT,
            "ytick.labelsize": TEXT_PT,
            "legend.fontsize": TEXT_PT,
            "legend.title_fontsize": TEXT_PT,
            "figure.titlesize": TEXT_PT,
            "figure.labelsize": TEXT_PT,
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    if _in_a_kernel():
        _draw_once_in_notebooks()
        gc.freeze()  # the imports' objects live as long as the kernel: no collection scans them again


def _in_a_kernel() -> bool:
    """Whether this process is an IPython kernel (a notebook's), as the chapters run in."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def _draw_once_in_notebooks() -> None:
    """In an IPython kernel with the inline backend, leave the drawing of figures to that backend.

    After each cell pyplot's display hook draws every figure the cell changed, and then the
    inline backend draws it again into the PNG it sends: the first drawing is thrown away (a
    third of a figure's CPU). Selecting the backend now installs that hook now, and it is
    removed; the figures are shown as before, the same PNG. Other backends are left as they are.
    """
    backend = matplotlib.get_backend()
    if "inline" not in backend or plt.get_fignums():
        return  # another backend, or figures already open (selecting closes them)
    plt.switch_backend(backend)
    plt.uninstall_repl_displayhook()


def draw_lines(ax, curves: dict, *, n_marks: int = 8) -> list:
    """Draw ``{name: (x, y)}`` so that lines on top of each other stay distinguishable.

    Each line gets its own dash pattern and marker; the markers of line ``k`` sit a fraction
    ``k / len(curves)`` of a step after those of the line before, so two lines that coincide
    still show both their markers. Returns the lines drawn.
    Defined in the Batch learning chapter (``book/batch.ipynb``), where
    :func:`~deployment_modes.plots.plot_timeline` draws with it; the Comparison chapter draws its
    own figures with it too.

    Parameters
    ----------
    ax
        The matplotlib axes to draw on.
    curves
        ``{name: (x, y)}``, one line each, drawn in this order.
    n_marks
        About how many markers each line gets.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> lines = draw_lines(ax, {"a": ([0, 1, 2], [1, 2, 3]), "b": ([0, 1, 2], [1, 2, 3])})
    >>> [(line.get_linestyle(), line.get_marker()) for line in lines]
    [('-', 'o'), ('--', 's')]
    >>> plt.close(fig)
    """
    lines = []
    for row, (name, (x, y)) in enumerate(curves.items()):
        step = max(len(x) // n_marks, 1)
        (line,) = ax.plot(
            x,
            y,
            ls=LINE_STYLES[row % len(LINE_STYLES)],
            marker=_MARKERS[row % len(_MARKERS)],
            markevery=(row * step // len(curves), step),
            ms=7,
            lw=1.6,
            label=name,
        )
        lines.append(line)
    return lines


def legend_below(ax, *, ncol: int = 2, **kwargs):
    """Put the legend of ``ax`` under its x-axis (its tick labels and label), clear of the curves.

    The gap is measured in points from the axis's own text, so it holds after ``tight_layout``
    and whatever the axes' height. Returns the legend.
    Defined in the Batch learning chapter (``book/batch.ipynb``), under the timelines; the later
    chapters place their own figures' legends with it.

    Parameters
    ----------
    ax
        The matplotlib axes whose legend it is.
    ncol
        Columns of the legend.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.legend`.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="a line")
    >>> ax.set(xlabel="x")  # doctest: +ELLIPSIS
    [Text(...)]
    >>> legend = legend_below(ax)
    >>> fig.canvas.draw()
    >>> bool(legend.get_window_extent().y1 <= ax.xaxis.get_tightbbox().y0)
    True
    >>> plt.close(fig)
    """
    from matplotlib.transforms import ScaledTranslation

    fig = ax.figure
    axis_text = ax.xaxis.get_tightbbox(fig.canvas.get_renderer())
    below = ax.get_window_extent().y0 - axis_text.y0 if axis_text is not None else 0.0
    shift = ScaledTranslation(0, -(below / fig.dpi + 0.08), fig.dpi_scale_trans)
    options = {"loc": "upper center", "ncol": ncol, "frameon": False, **kwargs}
    return ax.legend(bbox_to_anchor=(0.5, 0), bbox_transform=ax.transAxes + shift, **options)


def plain_log_ticks(axis, subs=(1.0,)) -> None:
    """Tick a log axis at ``subs`` times the powers of ten, written as plain numbers (1,000, not 10³).

    Plain numbers read at a glance, and they need no math text: matplotlib's own labels of a log
    axis (10², 10³) go through its math-text parser, which takes about 0.2 s of CPU to build the
    first time a process draws one. No minor ticks: each is an object to draw, and the labelled
    ticks and their grid lines are enough to read a value.
    Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``); the server's figures
    use it too.

    Parameters
    ----------
    axis
        A log-scaled axis (``ax.xaxis`` or ``ax.yaxis``).
    subs
        The multiples of each power of ten that get a tick: ``(1.0, 2.0, 5.0)`` for 1, 2, 5, 10...

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.loglog([1, 2_000], [1, 30_000])
    >>> plain_log_ticks(ax.yaxis)
    >>> fig.canvas.draw()
    >>> [t.get_text() for t in ax.get_yticklabels() if 1 <= t.get_position()[1] <= 30_000]
    ['1', '10', '100', '1,000', '10,000']
    >>> plt.close(fig)
    """
    from matplotlib.axis import Axis
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    if not isinstance(axis, Axis):
        raise TypeError(f"axis must be a matplotlib axis (ax.xaxis, ax.yaxis), got {axis!r:.60}")
    try:
        subs = tuple(float(s) for s in subs)
    except (TypeError, ValueError):
        subs = ()
    if not subs or not all(1 <= s < 10 for s in subs):
        raise ValueError("subs must hold numbers at least 1 and below 10, such as (1, 2, 5)")
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")
    )
    axis.set_minor_locator(NullLocator())
