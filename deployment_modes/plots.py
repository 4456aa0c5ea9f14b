"""Drawing timelines: the rolling metric over the stream, retrains marked, drifts shaded.

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .timeline import Timeline

__all__ = ["plot_corpus", "plot_online_server", "plot_redeploys", "plot_spread", "plot_timeline"]

MARKS = {"retrain": "|", "alarm": "v", "rollback": "x", "pause": "s", "resume": "^", "swap": "D"}


def plot_timeline(timelines, ax=None, *, metric_name: str | None = None, title: str | None = None,
                  show_log: bool = True):
    """Plot one :class:`Timeline`, or a dict ``{name: Timeline}`` on shared axes.

    Each line is the rolling metric against the event position; the deployment's log entries
    (retrains, alarms, rollbacks...) are marked on the line, and drifts are shaded.

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

    Examples
    --------
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> import deployment_modes as dm
    >>> tl = dm.simulate(dm.scenarios.house_prices(n_initial=50, n_stream=60), dm.BatchDeployment(Ridge()), metrics.MAE())
    >>> ax = plot_timeline(tl)
    >>> ax.get_xlabel()
    'events since deployment'
    """
    if isinstance(timelines, Timeline):
        timelines = {timelines.name: timelines}
    if not isinstance(timelines, dict) or not timelines or not all(isinstance(t, Timeline) for t in timelines.values()):
        raise TypeError("timelines must be a Timeline or a non-empty dict of name -> Timeline")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    first = next(iter(timelines.values()))
    for row, (run, tl) in enumerate(timelines.items()):
        (line,) = ax.plot(range(len(tl)), tl.rolling, label=run, lw=1.4)
        if show_log:
            _mark_log(ax, tl, line.get_color(), row)
    for d in first.drift_at:
        ax.axvspan(d, d + max(len(first) // 100, 1), color="tab:red", alpha=0.25, lw=0)
        ax.annotate("drift", (d, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", color="tab:red")
    name = metric_name or type(first.metric).__name__
    if show_log and any(e.kind in MARKS and e.at > 0 for tl in timelines.values() for e in tl.log):
        ax.annotate("marks: " + ", ".join(f"{m} {k}" for k, m in MARKS.items()
                                          if any(e.kind == k for tl in timelines.values() for e in tl.log)),
                    (0, 0), xycoords="axes fraction", xytext=(2, -28), textcoords="offset points", fontsize="x-small")
    ax.set_xlabel("events since deployment")
    ax.set_ylabel(f"rolling {name}")
    if title:
        ax.set_title(title)
    if len(timelines) > 1:
        ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _mark_log(ax, tl, color, row: int) -> None:
    """Mark the deployment's log entries as a rug under the curves, one row per timeline."""
    for kind, marker in MARKS.items():
        at = [e.at for e in tl.log if e.kind == kind and 0 < e.at <= len(tl)]
        if at:
            ax.plot(at, [0.03 + 0.045 * row] * len(at), marker, color=color, ms=8, mew=1.6,
                    transform=ax.get_xaxis_transform(), clip_on=False)


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
    import pyarrow.parquet as pq
    import pyarrow.csv as pcsv

    if not files:
        raise ValueError("files must list at least one corpus file")
    counts, per_file = Counter(), {}
    for i, path in enumerate(files):
        frame = (pq.read_table(path) if str(path).endswith(".parquet") else pcsv.read_csv(path)).to_pandas()
        if i == 0:  # the word counts of the first file are enough to see the law
            counts.update(word for doc in frame[text] for word in doc.split())
        per_file[getattr(path, "stem", str(path))] = frame[target].value_counts()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.4))
    freq = np.array(sorted(counts.values(), reverse=True)[:max_words])
    top.loglog(np.arange(1, len(freq) + 1), freq, ".", ms=3)
    top.set(xlabel="word rank (1 = most frequent)", ylabel="occurrences",
            title="Words of the first file: a few are very common (Zipf)")
    top.grid(alpha=0.3)
    table = pd.DataFrame(per_file).fillna(0).T
    left = np.zeros(len(table))
    for topic in table.columns:
        bottom.barh(table.index, table[topic], left=left, label=topic)
        left += table[topic].to_numpy()
    bottom.invert_yaxis()
    bottom.set(xlabel="documents", title="Topics in each file on disk")
    bottom.legend(ncols=min(len(table.columns), 3), loc="upper center", bbox_to_anchor=(0.5, -0.22))
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
    ax.fill_between(x, values.min(axis=1), values.max(axis=1), color=line.get_color(), alpha=0.2, lw=0)
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
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.6), sharex=True)
    top.plot(progress["seconds"], 100 * progress["accuracy"], color="tab:blue")
    reached = progress.loc[progress["events_seen"] >= drift_events, "seconds"]
    if len(reached):
        for ax in (top, bottom):
            ax.axvline(reached.iloc[0], color="tab:red", ls="--", lw=1)
        top.annotate("the stream\nreaches the drift", (reached.iloc[0], 0.05), xycoords=("data", "axes fraction"),
                     xytext=(5, 0), textcoords="offset points", color="tab:red")
    top.set(ylabel="server's rolling accuracy\n(last 200 events, %)",
            title="One server learns the stream\nwhile a client asks every 5 ms")
    top.grid(alpha=0.3)
    right = answers["y_pred"] == probe_y
    ok = answers["ok"]
    bottom.scatter(answers.loc[ok & right, "sent"], answers.loc[ok & right, "latency_ms"], s=8, color="tab:green",
                   label="right answer")
    bottom.scatter(answers.loc[ok & ~right, "sent"], answers.loc[ok & ~right, "latency_ms"], s=8,
                   color="tab:orange", label="wrong answer")
    bottom.set(yscale="log", xlabel="seconds since the stream started", ylabel="prediction latency (ms)")
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
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
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs must be a non-empty dict of title -> (probe table, (start, end))")
    fig, axes = plt.subplots(2 * len(runs), 1, figsize=(7, 3.3 * len(runs)), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1] * len(runs)})
    for k, (title, (table, span)) in enumerate(runs.items()):
        latency, failed = axes[2 * k], axes[2 * k + 1]
        ok = table["ok"]
        for ax in (latency, failed):
            ax.axvspan(*span, color="tab:gray", alpha=0.25, lw=0)
        latency.scatter(table.loc[ok, "sent"], table.loc[ok, "latency_ms"], s=6, color="tab:blue")
        latency.set(yscale="log", ylabel="latency of\nanswers (ms)", title=title)
        latency.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        latency.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        latency.yaxis.set_minor_formatter(NullFormatter())
        latency.grid(alpha=0.3)
        failed.plot(table.loc[~ok, "sent"], [0] * int((~ok).sum()), "|", color="tab:red", ms=14)
        failed.set(yticks=[], ylim=(-1, 1), ylabel="no\nanswer")
        failed.set_title(f"{int((~ok).sum())} failed requests" if (~ok).any() else "no failed request",
                         loc="left", fontsize="medium", color="tab:red")
    axes[-1].set_xlabel("seconds since the probe started (grey: redeploy in progress)")
    fig.tight_layout()
    return fig
