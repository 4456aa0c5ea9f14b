"""Drawing timelines: the rolling metric over the stream, retrains marked, drifts shaded.

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .timeline import Timeline

__all__ = [
    "draw_lines",
    "plot_corpus",
    "plot_online_server",
    "plot_redeploys",
    "plot_spread",
    "plot_timeline",
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


_MARKERS = ["o", "s", "^", "D", "v", "P"]


def draw_lines(ax, curves: dict, *, n_marks: int = 8) -> list:
    """Draw ``{name: (x, y)}`` so that lines on top of each other stay distinguishable.

    Each line gets its own dash pattern and marker; the markers of line ``k`` sit a fraction
    ``k / len(curves)`` of a step after those of the line before, so two lines that coincide
    still show both their markers. Returns the lines drawn.

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
            ls=_STYLES[row % len(_STYLES)],
            marker=_MARKERS[row % len(_MARKERS)],
            markevery=(row * step // len(curves), step),
            ms=7,
            lw=1.6,
            label=name,
        )
        lines.append(line)
    return lines


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


def legend_below(ax, *, ncol: int = 2, **kwargs):
    """Put the legend of ``ax`` under its x-axis (its tick labels and label), clear of the curves.

    The gap is measured in points from the axis's own text, so it holds after ``tight_layout``
    and whatever the axes' height. Returns the legend.

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


# -- figures of the Batch and Online learning chapters (book/batch.ipynb, book/online.ipynb) ----------
__all__ += [
    "course_style",
    "plot_cold_start",
    "plot_concepts",
    "plot_house_trend",
    "plot_learning_rate_sweep",
    "plot_releases",
    "plot_retrain_sweep",
    "plot_seed_bands",
    "plot_true_accuracy",
]


# The book's text column is 672 px wide in a 1280-px window, and its body text 16 px. At 90 dpi a
# figure WIDTH inches wide is 648 px (never shrunk on a desktop), and 13-pt text is 16.25 px.
DPI = 90
TEXT_PT = 13
WIDTH = 7.2


def course_style() -> None:
    """The chapters' figure style: every text as large as the page's body text (13 pt at 90 dpi is 16 px).

    Every chapter calls it in its set-up cell; a figure :data:`WIDTH` inches wide is then
    648 px, narrower than the book's text column (672 px), so it is shown at its own size.

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


_STYLES = ["-", "--", "-.", ":"]


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


def plot_concepts(scenario, *, n: int = 300, seed: int = 0):
    """Concept drift made visible: the same kind of points, labelled by two different rules.

    Two stacked panels, before and after the scenario's first drift. Each event is placed by its
    score under the old rule (a logistic regression fitted on the events before the drift) and
    under the new rule (fitted after it), and coloured by its label: before the drift the labels
    split left/right (the old rule), after it top/bottom (the new rule).
    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    scenario
        A :class:`~deployment_modes.scenarios.Scenario` with at least one drift (``drift_at``).
    n
        Events drawn in each panel (at most; a random sample).
    seed
        The seed of that sample.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with its two panels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import deployment_modes as dm
    >>> fig = plot_concepts(dm.scenarios.drifting_classification(n_initial=100, n_stream=600, drift_at=300), n=50)
    >>> type(fig).__name__, len(fig.axes)
    ('Figure', 2)
    >>> plt.close(fig)
    """
    from sklearn.linear_model import LogisticRegression

    if not scenario.drift_at:
        raise ValueError("scenario must have a drift (drift_at) to show two concepts")
    d, width = scenario.drift_at[0], int(scenario.info.get("width", 50))
    X, y = scenario.X.to_numpy(), scenario.y
    old = LogisticRegression().fit(X[:d], y[:d])
    new = LogisticRegression().fit(X[d + width :], y[d + width :])
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(2, 1, figsize=(WIDTH, 8), sharex=True, sharey=True)
    for ax, (title, rows) in zip(
        axes,
        [
            (f"before the drift (events 0 to {d - 1:,})", np.arange(d)),
            (f"after the drift (events {d + width:,} on)", np.arange(d + width, len(y))),
        ],
    ):
        pick = rng.choice(rows, size=min(n, len(rows)), replace=False)
        s_old, s_new = old.decision_function(X[pick]), new.decision_function(X[pick])
        for label, marker, color in [(0, "o", "tab:blue"), (1, "^", "tab:orange")]:
            m = y[pick] == label
            ax.scatter(
                s_old[m],
                s_new[m],
                marker=marker,
                s=22,
                color=color,
                alpha=0.7,
                label=f"label {label}",
            )
        ax.axvline(0, color="black", lw=1.2, ls="--")
        ax.axhline(0, color="grey", lw=1.2, ls=":")
        ax.set(title=title, ylabel="score under the new rule")
        ax.legend(loc="upper left")
    axes[1].set_xlabel("score under the old rule (dashed: its boundary)")
    fig.tight_layout()
    return fig


def plot_house_trend(scenario, *, window: int = 250):
    """The house-price stream: price per square metre of each sale against time, and its rolling median.

    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    scenario
        The house-price scenario (``scenarios.house_prices``), initial sales included.
    window
        Sales in the rolling median.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import deployment_modes as dm
    >>> ax = plot_house_trend(dm.scenarios.house_prices(n_initial=50, n_stream=200), window=20)
    >>> ax.get_xlabel()
    'days since deployment'
    >>> plt.close(ax.figure)
    """
    import pandas as pd

    X0, y0 = scenario.initial
    days0 = np.asarray(scenario.info["initial_days"])
    per_m2 = pd.Series(
        np.concatenate([y0 / X0["area_m2"], scenario.y / scenario.X["area_m2"]]) * 1000
    )
    days = np.concatenate([days0, scenario.times])
    _, ax = plt.subplots(figsize=(WIDTH, 4))
    ax.scatter(days, per_m2, s=4, alpha=0.25, color="grey", label="one sale")
    ax.plot(
        days,
        per_m2.rolling(window, center=True, min_periods=window // 2).median(),
        color="tab:blue",
        lw=2.2,
        label=f"median of {window} sales",
    )
    ax.axvspan(days.min(), 0, color="tab:green", alpha=0.1, lw=0)
    ax.annotate(
        "first training",
        (days.min(), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -16),
        textcoords="offset points",
        color="tab:green",
    )
    ax.set(
        xlabel="days since deployment",
        ylabel="price (EUR per m²)",
        ylim=tuple(np.nanpercentile(per_m2, [1, 99])),
    )
    ax.legend(loc="lower right", markerscale=3)
    return ax


def plot_releases(scenario, *, bin_days: float = 2.0):
    """The catalogue stream: when new titles are released (top) and their share of views (bottom).

    Defined in the Batch learning chapter (``book/batch.ipynb``).

    Parameters
    ----------
    scenario
        The movie-catalogue scenario (``scenarios.movie_catalogue``).
    bin_days
        Width of a histogram bin, in days.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with its two panels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import deployment_modes as dm
    >>> fig = plot_releases(dm.scenarios.movie_catalogue(n_titles=50, n_new=5, n_initial=200, n_stream=300))
    >>> type(fig).__name__, len(fig.axes)
    ('Figure', 2)
    >>> plt.close(fig)
    """
    new = np.asarray(scenario.info["new_titles"])
    release = np.asarray(scenario.info["release_day"])[new]
    days = np.asarray(scenario.times)
    edges = np.arange(0, days.max() + bin_days, bin_days)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 5.5), sharex=True)
    top.hist(release, bins=edges, color="tab:purple")
    top.set(ylabel="new titles\nreleased")
    is_new = np.isin(scenario.y, new).astype(float)
    which = np.digitize(days, edges) - 1
    share = np.bincount(which, weights=is_new, minlength=len(edges)) / np.maximum(
        np.bincount(which, minlength=len(edges)), 1
    )
    bottom.stairs(100 * share[: len(edges) - 1], edges, color="tab:purple", lw=1.8)
    top.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    bottom.set(
        xlabel="days since deployment", ylabel="views of new\ntitles (%)", xlim=(0, days.max())
    )
    fig.tight_layout()
    return fig


def plot_corpus(files, *, target: str = "topic", text: str = "text", max_words: int = 2_000):
    """Picture a text corpus on disk: word frequency against rank, and the topics in each file.

    Two panels, stacked: the Zipfian vocabulary (how often the ``max_words`` most frequent words
    of the first file occur, log-log) and, per file, how many documents of each topic it holds. Reads the files
    one at a time. Returns the figure.

    Parameters
    ----------
    files
        The corpus's files (CSV or Parquet), in order.
    target, text
        The label column and the text column.
    max_words
        Most frequent words drawn in the first panel.

    Examples
    --------
    >>> import tempfile
    >>> from deployment_modes.corpus import write_corpus
    >>> c = write_corpus(tempfile.mkdtemp(), n_docs=200, n_files=2, n_test=10)
    >>> len(plot_corpus(c.files).axes)
    2
    """
    from collections import Counter

    import numpy as np
    import pandas as pd
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if not files:
        raise ValueError("files must list at least one corpus file")
    counts, per_file = Counter(), {}
    for i, path in enumerate(files):
        frame = (
            pq.read_table(path) if str(path).endswith(".parquet") else pcsv.read_csv(path)
        ).to_pandas()
        if i == 0:  # the word counts of the first file are enough to see the law
            counts.update(word for doc in frame[text] for word in doc.split())
        per_file[getattr(path, "stem", str(path))] = frame[target].value_counts()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 6.4))
    freq = np.array(sorted(counts.values(), reverse=True)[:max_words])
    top.loglog(np.arange(1, len(freq) + 1), freq, ".", ms=3)
    top.set(
        xlabel="word rank (1 = most frequent)",
        ylabel="occurrences",
        title="Words of the first file: a few are very common (Zipf)",
    )
    top.grid(alpha=0.3)
    table = pd.DataFrame(per_file).fillna(0).T
    left = np.zeros(len(table))
    for topic in table.columns:
        bottom.barh(table.index, table[topic], left=left, label=topic)
        left += table[topic].to_numpy()
    bottom.invert_yaxis()
    bottom.set(xlabel="documents", title="Topics in each file on disk")
    legend_below(bottom, ncol=min(len(table.columns), 3), frameon=True)
    fig.tight_layout()
    return fig


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
        ``{measure: legend}``, the accuracy measures first (the top panel) and the rows fitted
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
        _band(top, x, table, m, columns[m], _STYLES[i % 4], "os^D"[i % 4])
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
        (line,) = ax.plot(x, curves[0], lw=1.8, ls=_STYLES[row % 4], label=name)
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
        ax.plot(scenario.times, 100 * share, lw=1.8, ls=_STYLES[row % 4], label=name)
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
            range(len(tl)), tl.model_version, where="post", lw=1.8, ls=_STYLES[row % 4], label=name
        )
    ax.set(yscale="log", xlabel="events since deployment", ylabel="model version")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_spread(ax, x, values, *, label: str, marker: str = "o-"):
    """Draw the mean of ``values`` (one row per x, one column per seed) with its min-max band.

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


def plot_online_server(progress, answers, probe_y, *, drift_events: int):
    """The Learning on a server chapter's first figure: the server's rolling accuracy, and the probe's answers.

    ``progress`` has the columns ``seconds``, ``events_seen`` and ``accuracy`` (read from
    ``/metrics``); ``answers`` is a :class:`~deployment_modes.serve.Probe` table whose right
    answer is ``probe_y``; ``drift_events`` is the stream position of the drift. Two panels,
    stacked, sharing the time axis. Returns the figure.

    Parameters
    ----------
    progress
        The server's metrics read over time.
    answers
        The probe's answers.
    probe_y
        The right answer to the probe's event.
    drift_events
        The stream position of the drift.

    Examples
    --------
    >>> import pandas as pd
    >>> progress = pd.DataFrame({"seconds": [0.0, 1.0], "events_seen": [0, 10], "accuracy": [0.9, 0.8]})
    >>> answers = pd.DataFrame({"sent": [0.1, 0.9], "latency_ms": [1.0, 2.0], "y_pred": [0, 1], "ok": [True, True]})
    >>> len(plot_online_server(progress, answers, 1, drift_events=5).axes)
    2
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 5.6), sharex=True)
    top.plot(progress["seconds"], 100 * progress["accuracy"], color="tab:blue")
    reached = progress.loc[progress["events_seen"] >= drift_events, "seconds"]
    if len(reached):
        for ax in (top, bottom):
            ax.axvline(reached.iloc[0], color="tab:red", ls="--", lw=1)
        top.annotate(
            "the stream\nreaches the drift",
            (reached.iloc[0], 0.05),
            xycoords=("data", "axes fraction"),
            xytext=(5, 0),
            textcoords="offset points",
            color="tab:red",
        )
    top.set(
        ylabel="server's rolling accuracy\n(last 200 events, %)",
        title="One server learns the stream\nwhile a client asks every 5 ms",
    )
    top.grid(alpha=0.3)
    right = answers["y_pred"] == probe_y
    ok = answers["ok"]
    bottom.scatter(
        answers.loc[ok & right, "sent"],
        answers.loc[ok & right, "latency_ms"],
        s=8,
        color="tab:green",
        label="right answer",
    )
    bottom.scatter(
        answers.loc[ok & ~right, "sent"],
        answers.loc[ok & ~right, "latency_ms"],
        s=8,
        color="tab:orange",
        label="wrong answer",
    )
    bottom.set(
        yscale="log", xlabel="seconds since the stream started", ylabel="prediction latency (ms)"
    )
    _plain_log_ticks(bottom.yaxis)
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_prices(scenario, runs: dict):
    """A price series (``scenario.info["dates"]``) and each timeline's predictions of it.

    >>> from river import metrics
    >>> from sklearn.neighbors import KNeighborsRegressor
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.stock_prices("apple", lags=3, n_initial=100)
    >>> runs = {"static": dm.simulate(sc.head(50), dm.BatchDeployment(KNeighborsRegressor()), metrics.MAE())}
    >>> plot_prices(sc.head(50), runs).axes[0].get_ylabel()
    'closing price (USD)'
    """
    dates = scenario.info["dates"][len(scenario.y_initial) :][: len(scenario)]
    fig, ax = plt.subplots(figsize=(WIDTH, 4.5))
    ax.plot(dates, scenario.y, color="black", lw=1.2, label="actual")
    for row, (name, tl) in enumerate(runs.items()):
        ax.plot(dates, tl.y_pred, lw=1.2, ls=_STYLES[(row + 1) % 4], label=f"predicted, {name}")
    ax.set(xlabel="date", ylabel=f"closing price ({scenario.info.get('unit', 'USD')})")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_redeploys(runs: dict):
    """Probe tables during redeploys: latency of answered requests, and the failed ones on a row of their own.

    ``runs`` maps a title to ``(table, (start, end))``: a :class:`~deployment_modes.serve.Probe`
    table and the redeploy's span in the table's seconds. Each run gets a latency panel (the
    span shaded) and, under it, a strip that marks each request that got no answer. Returns the
    figure.

    Parameters
    ----------
    runs
        ``{title: (probe table, (start, end))}``, one entry per redeploy.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"sent": [0.0, 0.1, 0.2], "latency_ms": [1.0, 0.0, 1.0], "ok": [True, False, True]})
    >>> len(plot_redeploys({"naive": (t, (0.05, 0.15))}).axes)
    2
    """
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict of title -> (probe table, (start, end))")
    fig, axes = plt.subplots(
        2 * len(runs),
        1,
        figsize=(WIDTH, 3.3 * len(runs)),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1] * len(runs)},
    )
    for k, (title, (table, span)) in enumerate(runs.items()):
        latency, failed = axes[2 * k], axes[2 * k + 1]
        ok = table["ok"]
        for ax in (latency, failed):
            ax.axvspan(*span, color="tab:gray", alpha=0.25, lw=0)
        latency.scatter(table.loc[ok, "sent"], table.loc[ok, "latency_ms"], s=6, color="tab:blue")
        latency.set(yscale="log", ylabel="latency of\nanswers (ms)", title=title)
        _plain_log_ticks(latency.yaxis)
        latency.grid(alpha=0.3)
        failed.plot(table.loc[~ok, "sent"], [0] * int((~ok).sum()), "|", color="tab:red", ms=14)
        failed.set(yticks=[], ylim=(-1, 1), ylabel="no\nanswer")
        failed.set_title(
            f"{int((~ok).sum())} failed requests" if (~ok).any() else "no failed request",
            loc="left",
            color="tab:red",
        )
    axes[-1].set_xlabel("seconds since the probe started (grey: redeploy in progress)")
    fig.tight_layout()
    return fig


# -- figures of the Beyond the notes chapter (book/retraining.ipynb) ------------------------------------
__all__ += ["plot_drift_kinds"]


def plot_drift_kinds(kind_runs: dict, *, width: int, warmup: int = 100):
    """Rolling accuracy of each line on each kind of drift: one panel per kind, stacked, one shared x-axis.

    A dashed line marks where each change starts; a change that lasts (gradual, incremental) is
    shaded over its ``width``. The first ``warmup`` events (the window filling up) are not drawn.
    Defined in the Beyond the notes chapter (``book/retraining.ipynb``).

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


def _plain_log_ticks(axis) -> None:
    """Ticks of a log axis at 1, 2 and 5 times the powers of ten, written as plain numbers (2, not 2×10⁰)."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())
