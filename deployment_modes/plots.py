"""Drawing timelines: the rolling metric over the stream, retrains marked, drifts shaded.

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it. The chapters
reach every figure of the course as ``dm.plots.NAME``: this module also re-exports the course's
style (:mod:`~deployment_modes.figure_style`), the figures of the data
(:mod:`~deployment_modes.data_figures`), of sweeps (:mod:`~deployment_modes.sweep_figures`) and
of the server (:mod:`~deployment_modes.server_figures`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .data_figures import plot_concepts, plot_corpus, plot_house_trend, plot_prices, plot_releases
from .figure_style import DPI as DPI  # re-exported, as TEXT_PT: the chapters read dm.plots.DPI
from .figure_style import (
    LINE_STYLES,
    WIDTH,
    course_style,
    draw_lines,
    legend_below,
    plain_log_ticks,
)
from .figure_style import TEXT_PT as TEXT_PT
from .server_figures import plot_online_server, plot_redeploys
from .sweep_figures import plot_learning_rate_sweep, plot_retrain_sweep, plot_spread
from .timeline import Timeline

__all__ = [
    # the timelines, drawn here
    "plot_cold_start",
    "plot_drift_kinds",
    "plot_new_title_share",
    "plot_seed_bands",
    "plot_timeline",
    "plot_true_accuracy",
    "plot_versions",
    # re-exported, so that every figure of the course is dm.plots.NAME
    "course_style",
    "draw_lines",
    "legend_below",
    "plain_log_ticks",
    "plot_concepts",
    "plot_corpus",
    "plot_house_trend",
    "plot_learning_rate_sweep",
    "plot_online_server",
    "plot_prices",
    "plot_redeploys",
    "plot_releases",
    "plot_retrain_sweep",
    "plot_spread",
]

MARKS = {"retrain": "|", "alarm": "v", "rollback": "x", "pause": "s", "resume": "^", "swap": "D"}


def plot_timeline(
    timelines,
    ax=None,
    *,
    metric_name: str | None = None,
    title: str | None = None,
    show_log: bool = True,
    warmup: int = 0,
):
    """Plot one :class:`Timeline`, or a dict ``{name: Timeline}`` on shared axes.

    Each line is the rolling metric against the event position; the deployment's log entries
    (retrains, alarms, rollbacks...) are marked on the line, and drifts are shaded. The first
    ``warmup`` events (the rolling window filling up, a noisy start) are not drawn.
    Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.

    Parameters
    ----------
    timelines
        A :class:`~deployment_modes.Timeline`, or ``{name: Timeline}``.
    ax
        The matplotlib axes to draw on (default: a new figure).
    metric_name
        The y-axis label's metric (default: the metric's class name).
    title
        The axes' title.
    show_log
        Mark the log's entries on the lines.
    warmup
        The first events not drawn (default 0: draw them all).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> import deployment_modes as dm
    >>> houses = dm.scenarios.house_prices(n_initial=50, n_stream=60)
    >>> tl = dm.simulate(houses, dm.BatchDeployment(Ridge()), metrics.MAE())
    >>> ax = plot_timeline(tl, warmup=10)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('events since deployment', 'rolling MAE')
    >>> plt.close(ax.figure)
    """
    if isinstance(timelines, Timeline):
        timelines = {timelines.name: timelines}
    if (
        not isinstance(timelines, dict)
        or not timelines
        or not all(isinstance(t, Timeline) for t in timelines.values())
    ):
        raise TypeError("timelines must be a Timeline or a non-empty dict of name -> Timeline")
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 4.6))
    first = next(iter(timelines.values()))
    lines = draw_lines(
        ax,
        {run: (np.arange(len(tl))[warmup:], tl.rolling[warmup:]) for run, tl in timelines.items()},
    )
    if show_log:
        for row, (line, tl) in enumerate(zip(lines, timelines.values())):
            _mark_log(ax, tl, line.get_color(), row)
    for d in first.drift_at:
        ax.axvspan(d, d + max(len(first) // 100, 1), color="tab:red", alpha=0.25, lw=0)
        ax.annotate(
            "drift",
            (d, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            color="tab:red",
        )
    name = metric_name or type(first.metric).__name__
    kinds = [
        k
        for k in MARKS
        if show_log and any(e.kind == k and e.at > 0 for tl in timelines.values() for e in tl.log)
    ]
    for kind in kinds:  # the log's marks, named in words in the legend
        ax.plot([], [], MARKS[kind], color="grey", ms=8, mew=1.6, ls="", label=kind)
    ax.set_xlabel("events since deployment")
    ax.set_ylabel(f"rolling {name}")
    if title:
        ax.set_title(title)
    if len(timelines) > 1 or kinds:
        legend_below(ax)
    ax.grid(alpha=0.3)
    return ax


def _mark_log(ax, tl, color, row: int) -> None:
    """Mark the deployment's log entries as a rug under the curves, one row per timeline."""
    for kind, marker in MARKS.items():
        at = [e.at for e in tl.log if e.kind == kind and 0 < e.at <= len(tl)]
        if at:
            ax.plot(
                at,
                [0.03 + 0.045 * row] * len(at),
                marker,
                color=color,
                ms=8,
                mew=1.6,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )


def plot_seed_bands(
    runs_by_seed: dict, ax=None, *, metric_name: str, warmup: int = 200, marks: bool = True
):
    """Rolling metric of each deployment: the first seed's line and the min-max band over all seeds.

    The first ``warmup`` events, where the rolling window is not yet full, are not drawn. Retrains
    and guardrail actions of the first seed are marked under the curves.
    Defined in the Batch learning chapter (``book/batch.ipynb``); the Online learning chapter uses it too.

    Parameters
    ----------
    runs_by_seed
        ``{seed: {name: Timeline}}``, the same names for every seed.
    ax
        The matplotlib axes to draw on (default: a new figure).
    metric_name
        The y-axis label.
    warmup
        The first events not drawn.
    marks
        Mark the first seed's log entries (retrains, alarms, rollbacks...) under the curves.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, one line (and band) per deployment.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> import deployment_modes as dm
    >>> runs = {s: {"static": dm.simulate(dm.scenarios.house_prices(seed=s, n_initial=50, n_stream=80),
    ...                                   dm.BatchDeployment(Ridge()), metrics.MAE())} for s in (0, 1)}
    >>> ax = plot_seed_bands(runs, metric_name="MAE", warmup=20)
    >>> ax.get_lines()[0].get_label()
    'static'
    >>> plt.close(ax.figure)
    """
    if not isinstance(runs_by_seed, dict) or not runs_by_seed:
        raise TypeError("runs_by_seed must be a non-empty dict of seed -> {name: Timeline}")
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 5))
    seeds = list(runs_by_seed)
    first = runs_by_seed[seeds[0]]
    curves = {
        name: np.array([runs_by_seed[s][name].rolling for s in seeds], dtype=float)
        for name in first
    }
    x = np.arange(next(iter(curves.values())).shape[1])[warmup:]
    lines = draw_lines(ax, {name: (x, c[0, warmup:]) for name, c in curves.items()})
    for row, (line, c, tl) in enumerate(zip(lines, curves.values(), first.values())):
        if len(seeds) > 1:
            ax.fill_between(
                x,
                np.nanmin(c[:, warmup:], 0),
                np.nanmax(c[:, warmup:], 0),
                color=line.get_color(),
                alpha=0.18,
                lw=0,
            )
        if marks:
            _mark_log(ax, tl, line.get_color(), row)
    kinds = [
        k
        for k in MARKS
        if marks and any(e.kind == k and 0 < e.at for t in first.values() for e in t.log)
    ]
    for kind in kinds:  # the marks in words, in the legend
        ax.plot(
            [], [], MARKS[kind], color="grey", ms=8, mew=1.6, ls="", label=f"{kind} (first seed)"
        )
    for d in tl.drift_at:
        ax.axvline(d, color="tab:red", lw=1.2)
        ax.annotate(
            "drift",
            (d, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -16),
            textcoords="offset points",
            color="tab:red",
        )
    ax.set(xlabel="events since deployment", ylabel=metric_name, xlim=(0, len(tl)))
    legend_below(ax)
    ax.figure.tight_layout()
    return ax


def plot_true_accuracy(
    runs: dict, y_true, *, span: tuple, window: int = 100, stop: int | None = None, ax=None
):
    """Rolling accuracy of each timeline against other labels (a poisoned stream's true ones), burst shaded.

    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    runs
        ``{name: Timeline}``.
    y_true
        The labels to score against, one per event (the clean stream's).
    span
        ``(first, last)`` event of the shaded burst of wrong labels.
    window
        Events in the rolling accuracy.
    stop
        Draw the events before ``stop`` only (default ``None``: all of them).
    ax
        The matplotlib axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from river import metrics
    >>> from sklearn.linear_model import LogisticRegression
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=300, drift_at=200)
    >>> tl = dm.simulate(dm.scenarios.poison_labels(sc, 50, 50), dm.BatchDeployment(LogisticRegression()),
    ...                  metrics.Accuracy())
    >>> ax = plot_true_accuracy({"static": tl}, sc.y, span=(50, 100), window=20)
    >>> ax.get_ylabel()
    'accuracy on the true labels\\n(last 20 events)'
    >>> plt.close(ax.figure)
    """
    import pandas as pd

    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 5.5))
    truth = np.asarray(y_true)
    curves = {}
    for name, tl in runs.items():
        correct = pd.Series(np.asarray(tl.y_pred, dtype=object) == truth).astype(float)
        rolled = correct.rolling(window).mean().to_numpy()[:stop]
        curves[name] = (np.arange(len(rolled)), rolled)
    draw_lines(ax, curves)
    ax.axvspan(*span, color="tab:red", alpha=0.15, lw=0, label="wrong labels")
    ax.set(
        xlabel="events since deployment",
        ylabel=f"accuracy on the true labels\n(last {window} events)",
    )
    legend_below(ax)
    ax.figure.tight_layout()
    return ax


def plot_cold_start(runs_by_seed: dict, *, metric_name: str, stop: int = 1000, window: int = 50):
    """An online model started cold against the same model first trained offline, first ``stop`` events.

    The rolling metric is recomputed over ``window`` events so that the first events show (the
    cold model has nothing to show before it has learned); a prediction of ``None`` counts as wrong.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    runs_by_seed
        ``{seed: {name: Timeline}}``, as in :func:`plot_seed_bands`.
    metric_name
        The y-axis label's metric.
    stop
        Events drawn, from the first.
    window
        Events in the rolling accuracy.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: the first seed's line and the min-max band over the seeds.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from river import metrics
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=100, n_stream=300, drift_at=200)
    >>> tl = dm.simulate(sc, dm.OnlineDeployment(dm.sgd_model("classification", 0.1)), metrics.Accuracy())
    >>> ax = plot_cold_start({0: {"offline first": tl}}, metric_name="accuracy", stop=100, window=10)
    >>> [float(x) for x in ax.get_xlim()]
    [0.0, 100.0]
    >>> plt.close(ax.figure)
    """
    import pandas as pd

    _, ax = plt.subplots(figsize=(WIDTH, 4))
    seeds = list(runs_by_seed)
    for row, name in enumerate(runs_by_seed[seeds[0]]):
        curves = []
        for s in seeds:
            tl = runs_by_seed[s][name]
            right = pd.Series(
                [
                    float(p == y) if p is not None else 0.0
                    for p, y in zip(tl.y_pred[:stop], tl.y_true)
                ]
            )
            curves.append(right.rolling(window, min_periods=1).mean().to_numpy())
        curves = np.array(curves)
        x = np.arange(1, curves.shape[1] + 1)
        (line,) = ax.plot(x, curves[0], lw=1.8, ls=LINE_STYLES[row % 4], label=name)
        ax.fill_between(x, curves.min(0), curves.max(0), color=line.get_color(), alpha=0.18, lw=0)
    ax.set(
        xlabel="events since deployment",
        ylabel=f"{metric_name}\n(last {window} events)",
        xlim=(0, stop),
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right")
    return ax


def plot_new_title_share(runs: dict, scenario, *, window: int = 250):
    """Share of recommended slots that go to titles released after deployment, per deployment.

    Dotted lines mark the retrains of the deployments that have any.
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    runs
        ``{name: Timeline}`` of recommenders run on ``scenario``.
    scenario
        The movie-catalogue scenario (``scenarios.movie_catalogue``), its new titles in
        ``info["new_titles"]``.
    window
        Events in the rolling share.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one line per deployment.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.movie_catalogue(n_titles=50, n_new=5, n_initial=200, n_stream=300)
    >>> runs = dm.compare(sc, {"static": dm.BatchDeployment(dm.TrendingRecommender(k=3))}, dm.HitRate())
    >>> plot_new_title_share(runs, sc).axes[0].get_xlabel()
    'days since deployment'
    """
    import pandas as pd

    from .recommender import new_title_share

    fig, ax = plt.subplots(figsize=(WIDTH, 4))
    new = scenario.info["new_titles"]
    for row, (name, tl) in enumerate(runs.items()):
        share = pd.Series(new_title_share(tl.y_pred, new)).rolling(window, min_periods=1).mean()
        ax.plot(scenario.times, 100 * share, lw=1.8, ls=LINE_STYLES[row % 4], label=name)
        for at in tl.retrains["at"]:
            ax.axvline(scenario.times[at - 1], color="grey", lw=0.8, ls=":")
    ax.set(
        xlabel="days since deployment",
        ylabel=f"recommended slots to\nnew titles (%, last {window})",
    )
    ax.legend(loc="upper left")
    return fig


def plot_versions(runs: dict):
    """Model version against events for each timeline (log scale): batch steps, online climbs every event.

    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    runs
        ``{name: Timeline}``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one step line per timeline.

    Examples
    --------
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> import deployment_modes as dm
    >>> houses = dm.scenarios.house_prices(n_initial=50, n_stream=60)
    >>> tl = dm.simulate(houses, dm.BatchDeployment(Ridge()), metrics.MAE())
    >>> plot_versions({"static": tl}).axes[0].get_yscale()
    'log'
    """
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    for row, (name, tl) in enumerate(runs.items()):
        ax.step(
            range(len(tl)),
            tl.model_version,
            where="post",
            lw=1.8,
            ls=LINE_STYLES[row % 4],
            label=name,
        )
    ax.set(yscale="log", xlabel="events since deployment", ylabel="model version")
    plain_log_ticks(ax.yaxis)
    ax.legend(loc="center right")  # clear of the lines: online climbs at the left, batch lies low
    fig.tight_layout()
    return fig


def plot_drift_kinds(kind_runs: dict, *, width: int, warmup: int = 100):
    """Rolling accuracy of each line on each kind of drift: one panel per kind, stacked, one shared x-axis.

    A dashed line marks where each change starts; a change that lasts (gradual, incremental) is
    shaded over its ``width``. The first ``warmup`` events (the window filling up) are not drawn.
    Defined in the Retraining chapter (``book/retraining.ipynb``).

    Parameters
    ----------
    kind_runs
        ``{kind: {line: [Timeline, ...]}}`` (one timeline per seed; the first is drawn), as
        :func:`~deployment_modes.retraining.run_drift_kinds` returns.
    width
        Events a gradual or incremental change lasts.
    warmup
        The first events not drawn.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one panel per kind and the legend under the last.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> runs = dm.retraining.run_drift_kinds(seeds=[0], n_stream=200, drift_at=80, width=40)
    >>> fig = plot_drift_kinds(runs, width=40, warmup=20)
    >>> len(fig.axes), fig.axes[0].get_shared_x_axes().joined(fig.axes[0], fig.axes[-1])
    (4, True)
    >>> plt.close(fig)
    """
    if not isinstance(kind_runs, dict) or not kind_runs:
        raise TypeError("kind_runs must be a non-empty dict of kind -> {line: [Timeline, ...]}")
    fig, axes = plt.subplots(
        len(kind_runs), 1, figsize=(WIDTH, 2.4 * len(kind_runs) + 1.2), sharex=True, sharey=True
    )
    for ax, (kind, by_line) in zip(np.atleast_1d(axes), kind_runs.items()):
        first = {line: timelines[0] for line, timelines in by_line.items()}
        draw_lines(
            ax,
            {
                line: (np.arange(len(tl))[warmup:], tl.rolling[warmup:])
                for line, tl in first.items()
            },
        )
        drift_at = next(iter(first.values())).drift_at
        if kind in ("gradual", "incremental"):
            ax.axvspan(drift_at[0], drift_at[0] + width, color="tab:red", alpha=0.15, lw=0)
        for at in drift_at:
            ax.axvline(at, color="tab:red", lw=1.2, ls="--")
        ax.set_title(f"{kind} drift", loc="left")
        ax.set_ylabel("accuracy\n(last 100)")
    ax.set_xlabel("events since deployment")
    ax.set_xlim(0, len(next(iter(first.values()))))
    legend_below(ax)
    fig.tight_layout()
    return fig
