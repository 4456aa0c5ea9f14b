"""Figures of the data itself, before a model learns from it: the scenarios' streams and the corpus.

Concept drift made visible, the house-price trend, the catalogue's releases, a text corpus on
disk, a price series. Defined in the Batch learning, Online learning and Out-of-core learning
chapters (``book/batch.ipynb``, ``book/online.ipynb``, ``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figure_style import LINE_STYLES, WIDTH, legend_below, plain_log_ticks
from .threads import one_thread

__all__ = ["plot_concepts", "plot_corpus", "plot_house_trend", "plot_prices", "plot_releases"]


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
    with one_thread():  # small fits: BLAS threads would only wait for each other
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
    Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).

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
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if not files:
        raise ValueError("files must list at least one corpus file")
    per_file = {}
    for i, path in enumerate(files):
        columns = [text, target] if i == 0 else [target]  # the text of the first file only
        table = (
            pq.read_table(path, columns=columns)
            if str(path).endswith(".parquet")
            else pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(include_columns=columns))
        )
        if i == 0:  # the word counts of the first file are enough to see the law
            # the words of str.split(): Arrow splits on the same whitespace, leaving an empty
            # word where a text begins or ends with it
            words = pc.utf8_split_whitespace(table.column(text)).combine_chunks().flatten()
            counts = pc.value_counts(words.filter(pc.not_equal(words, ""))).field("counts")
        frame = table.select([target]).to_pandas()
        per_file[getattr(path, "stem", str(path))] = frame[target].value_counts()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 6.4))
    freq = np.sort(counts.to_numpy())[::-1][:max_words]
    top.loglog(np.arange(1, len(freq) + 1), freq, ".", ms=3)
    plain_log_ticks(top.xaxis)
    plain_log_ticks(top.yaxis)
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


def plot_prices(scenario, runs: dict):
    """A price series (``scenario.info["dates"]``) and each timeline's predictions of it.

    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    scenario
        A price scenario (``scenarios.stock_prices``), its dates in ``info["dates"]``.
    runs
        ``{name: Timeline}`` of deployments run on that scenario.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: the actual price and one line of predictions per timeline.

    Examples
    --------
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
        ax.plot(dates, tl.y_pred, lw=1.2, ls=LINE_STYLES[(row + 1) % 4], label=f"predicted, {name}")
    ax.set(xlabel="date", ylabel=f"closing price ({scenario.info.get('unit', 'USD')})")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
