"""Drawing timelines: the rolling metric over the stream, retrains marked, drifts shaded.

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .timeline import Timeline

__all__ = ["plot_timeline"]

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
