"""Figures of a server that learns while it serves: its accuracy over time, and what a client sees.

Defined in the Learning on a server chapter (``book/server.ipynb``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .figure_style import WIDTH, plain_log_ticks

__all__ = ["plot_online_server", "plot_redeploys"]


def plot_online_server(progress, answers, probe_y, *, drift_events: int):
    """The Learning on a server chapter's first figure: the server's rolling accuracy, and the probe's answers.

    ``progress`` has the columns ``seconds``, ``events_seen`` and ``accuracy`` (read from
    ``/metrics``); ``answers`` is a :class:`~deployment_modes.serve.Probe` table whose right
    answer is ``probe_y``; ``drift_events`` is the stream position of the drift. Two panels,
    stacked, sharing the time axis. Returns the figure.
    Defined in the Learning on a server chapter (``book/server.ipynb``).

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
    plain_log_ticks(bottom.yaxis, subs=(1.0, 2.0, 5.0))
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_redeploys(runs: dict):
    """Probe tables during redeploys: latency of answered requests, and the failed ones on a row of their own.

    ``runs`` maps a title to ``(table, (start, end))``: a :class:`~deployment_modes.serve.Probe`
    table and the redeploy's span in the table's seconds. Each run gets a latency panel (the
    span shaded) and, under it, a strip that marks each request that got no answer. Returns the
    figure. Defined in the Learning on a server chapter (``book/server.ipynb``).

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
        plain_log_ticks(latency.yaxis, subs=(1.0, 2.0, 5.0))
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
