"""Figures of a sweep: a measure against a knob (retrain interval, learning rate...), spread over seeds.

Defined in the Batch learning and Online learning chapters (``book/batch.ipynb``,
``book/online.ipynb``); the Out-of-core learning and Comparison chapters use :func:`plot_spread`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figure_style import LINE_STYLES, WIDTH

__all__ = ["plot_learning_rate_sweep", "plot_retrain_sweep", "plot_spread"]


def _band(ax, x, table, column, label, style, marker):
    mean, low, high = (table[f"{column} {k}"] for k in ("mean", "min", "max"))
    ax.errorbar(
        x,
        mean,
        yerr=[mean - low, high - mean],
        ls=style,
        marker=marker,
        capsize=4,
        lw=1.6,
        label=label,
    )


def plot_retrain_sweep(table, *, columns: dict):
    """Freshness against cost: two stacked panels sharing the retrain interval, min-max bars over seeds.

    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    table
        A ``retrain_every`` column (0 = never) and, for each measure ``m``, columns ``"m mean"``,
        ``"m min"`` and ``"m max"``, as :func:`~deployment_modes.experiments.sweep_summary` returns.
    columns
        ``{measure: legend}``, the accuracy measures first (the top panel) and the training compute
        last (the bottom panel).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with its two panels; "never" is the last interval on the x-axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> t = pd.DataFrame({"retrain_every": [0, 500], **{f"{m} {k}": [0.5, 0.8] for m in ("a", "r")
    ...                   for k in ("mean", "min", "max")}})
    >>> fig = plot_retrain_sweep(t, columns={"a": "accuracy", "r": "rows"})
    >>> [t.get_text() for t in fig.axes[1].get_xticklabels()]
    ['500', 'never']
    >>> plt.close(fig)
    """
    names = list(columns)
    order = table["retrain_every"].replace(0, np.inf).argsort().to_numpy()
    table = table.iloc[order].reset_index(drop=True)
    x = np.arange(len(table))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 6.5), sharex=True)
    for i, m in enumerate(names[:-1]):
        _band(top, x, table, m, columns[m], LINE_STYLES[i % 4], "os^D"[i % 4])
    top.set(ylabel="accuracy after\nthe drift")
    top.legend(loc="lower left")
    _band(bottom, x, table, names[-1], columns[names[-1]], "-", "s")
    bottom.set(ylabel=f"{columns[names[-1]]}\n(thousands)", xlabel="retrain interval (events)")
    bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v / 1000:g}"))
    bottom.set_xticks(x, ["never" if not k else f"{int(k):,}" for k in table["retrain_every"]])
    fig.tight_layout()
    return fig


def plot_learning_rate_sweep(table):
    """The learning-rate trade-off, two stacked panels sharing the (log) learning rate, min-max bars.

    Accuracy before the drift on top, events to recover after it below.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    table
        A ``learning_rate`` column, and ``score_before_drift`` and ``events_to_recover`` with
        the suffixes ``" mean"``, ``" min"`` and ``" max"`` (the spread over the seeds of
        :func:`~deployment_modes.experiments.learning_rate_sweep`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with its two panels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> t = pd.DataFrame({"learning_rate": [0.01, 0.1], **{f"{m} {k}": [0.9, 0.8] for m in
    ...                   ("score_before_drift", "events_to_recover") for k in ("mean", "min", "max")}})
    >>> fig = plot_learning_rate_sweep(t)
    >>> type(fig).__name__, fig.axes[0].get_xscale()
    ('Figure', 'log')
    >>> plt.close(fig)
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 6.5), sharex=True)
    rates = table["learning_rate"].to_numpy()
    _band(top, rates, table, "score_before_drift", "accuracy before the drift", "-", "o")
    top.set(ylabel="accuracy on the 1,000\nevents before the drift", xscale="log")
    _band(bottom, rates, table, "events_to_recover", "events to recover", "--", "s")
    bottom.set(ylabel="events to recover\nafter the drift", xlabel="learning rate (SGD step size)")
    bottom.set_xticks(rates, [f"{r:g}" for r in rates])
    bottom.minorticks_off()
    fig.tight_layout()
    return fig


def plot_spread(ax, x, values, *, label: str, marker: str = "o-"):
    """Draw the mean of ``values`` (one row per x, one column per seed) with its min-max band.

    Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``); the Comparison
    chapter uses it too.

    Parameters
    ----------
    ax
        The matplotlib axes to draw on.
    x
        The x positions.
    values
        One row per x, one column per seed.
    label
        The legend's words for the line.
    marker
        The matplotlib format of the mean line.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax = plt.subplots()
    >>> line = plot_spread(ax, [1, 2], np.array([[0.5, 0.7], [0.8, 0.9]]), label="a")
    >>> line.get_label()
    'a (mean, min-max band)'
    """
    import numpy as np

    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or len(values) != len(x):
        raise ValueError("values must have one row per x and one column per seed")
    (line,) = ax.plot(x, values.mean(axis=1), marker, label=f"{label} (mean, min-max band)")
    ax.fill_between(
        x, values.min(axis=1), values.max(axis=1), color=line.get_color(), alpha=0.2, lw=0
    )
    return line
