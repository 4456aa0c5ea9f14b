"""Interactive controls (ipywidgets) that drive the same functions as the static cells.

Each function returns a widget whose first state is the figure the page shows statically.
Defined in the Batch learning chapter (``book/batch.ipynb``); ``learning_rate_explorer`` in the
Online learning chapter (``book/online.ipynb``); ``decision_form`` in the Decision guide chapter
(``book/decision_guide.ipynb``).
"""

from __future__ import annotations

import dataclasses
import html

import ipywidgets as widgets
import matplotlib.pyplot as plt

from . import decision
from .batch_experiments import batch_timeline
from .online import OnlineDeployment, sgd_model
from .plots import WIDTH, legend_below, plot_timeline
from .timeline import Timeline, events_to_recover, simulate

__all__ = ["decision_form", "learning_rate_explorer", "plot_situation", "retrain_interval_explorer"]


def retrain_interval_explorer(
    scenario,
    estimator,
    metric,
    *,
    intervals=(250, 500, 1000, 2000),
    window: int | None = None,
    value: int | None = None,
):
    """A slider over the retrain interval that redraws static vs retrained timelines.

    Parameters
    ----------
    scenario
        The scenario to run on.
    estimator
        A scikit-learn estimator, retrained by a :class:`~deployment_modes.BatchDeployment`.
    metric
        A river metric.
    intervals
        The slider's retrain intervals (events).
    window
        Fit on the last ``window`` rows only (default: all the data kept).
    value
        The slider's first interval (default: the middle one of ``intervals``), so that the
        widget's first state can be the figure the page shows above it.

    Examples
    --------
    >>> from river import metrics
    >>> from sklearn.linear_model import Ridge
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.house_prices(n_initial=50, n_stream=100)
    >>> box = retrain_interval_explorer(sc, Ridge(), metrics.MAE(), intervals=(20, 50))
    >>> type(box).__name__
    'VBox'
    """
    if not intervals:
        raise ValueError("intervals must hold at least one retrain interval")
    static = batch_timeline(scenario, estimator, metric, name="static")  # the retraining loop, fast
    if value is not None and value not in intervals:
        raise ValueError(f"value must be one of intervals {list(intervals)}, got {value!r}")
    slider = widgets.SelectionSlider(
        options=list(intervals),
        value=intervals[len(intervals) // 2] if value is None else value,
        description="retrain every",
        style={"description_width": "initial"},
    )
    out = widgets.Output()

    def draw(change=None):
        k = slider.value
        tl = batch_timeline(
            scenario,
            estimator,
            metric,
            retrain_every=k,
            window=window,
            name=f"retrain every {k} events",
        )
        with out:
            out.outputs = ()
            fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
            plot_timeline({"static": static, tl.name: tl}, ax=ax, warmup=200)
            ax.set_title(
                f"{len(tl.retrains)} retrains, score {tl.score:.3f} (static {static.score:.3f})"
            )
            plt.show()  # inside a notebook the inline backend draws it into the Output
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])


def _given_runs(runs, rates, scenario, metric) -> dict:
    """``runs`` checked (keyed by rates, runs on ``scenario`` with ``metric``), named as the explorer names its runs."""
    if runs is None:
        return {}
    if not isinstance(runs, dict):
        raise TypeError(f"runs must be a dict {{rate: Timeline}}, got {type(runs).__name__}")
    named = {}
    for lr, tl in runs.items():
        if lr not in rates:
            raise ValueError(f"runs must be keyed by rates {rates}, got the key {lr!r}")
        if not isinstance(tl, Timeline) or type(tl.metric) is not type(metric):
            raise TypeError(
                f"runs[{lr!r}] must be a Timeline scored with {type(metric).__name__}, "
                f"got {type(tl).__name__}"
            )
        if list(tl.y_true) != scenario.y.tolist():
            raise ValueError(f"runs[{lr!r}] must be a run on scenario (the same labels, in order)")
        named[lr] = dataclasses.replace(tl, name=f"learning rate {lr:g}")
    return named


def plot_situation(recommendation, runs, ax=None):
    """Draw the runs of :func:`decision.simulate_modes`, the recommended mode's line thicker.

    Parameters
    ----------
    recommendation
        A :class:`~deployment_modes.decision.Recommendation`.
    runs
        ``{line: Timeline}`` from :func:`~deployment_modes.decision.simulate_modes`.
    ax
        The matplotlib axes to draw on (default: a new figure).

    Examples
    --------
    >>> import deployment_modes as dm
    >>> runs = dm.decision.simulate_modes("fast", n_stream=300, retrain_every=100)
    >>> ax = plot_situation(dm.recommend(change="fast"), runs)
    >>> ax.get_lines()[0].get_label()
    'batch'
    """
    if not isinstance(recommendation, decision.Recommendation):
        raise TypeError(
            f"recommendation must be a Recommendation, got {type(recommendation).__name__}"
        )
    chosen = decision.line_of(recommendation.mode)
    ax = plot_timeline(
        runs, ax=ax, metric_name="accuracy (last 200 events)", show_log=False, warmup=200
    )
    for line in ax.get_lines():
        if line.get_label() == chosen:
            line.set_linewidth(3.5)
            line.set_label(f"{chosen} (recommended)")
    legend_below(ax)
    ax.set_title(f"the guide recommends: {recommendation.mode}")
    return ax


def decision_form(n_stream: int = 3000, seed: int = 0, **answers):
    """A form over :func:`decision.recommend` that shows the advice and simulates the situation.

    ``answers`` are the form's first state (the arguments of ``recommend``). Each change
    recommends again and reruns :func:`decision.simulate_modes` on a scenario whose drift
    follows ``change`` and whose first training grows with ``data_gb / memory_gb``. The kind of
    drift and ``partial_fit`` shape the retraining advice (trigger and refit), not the simulation.

    Parameters
    ----------
    n_stream
        Events of the simulated stream.
    seed
        Seed of the simulation.
    **answers
        The form's first state: the arguments of :func:`~deployment_modes.decision.recommend`.

    Examples
    --------
    >>> form = decision_form(n_stream=300, change="stable")
    >>> type(form).__name__, form.children[0].children[0].value
    ('VBox', 'stable')
    """
    first = dict(
        change="slow",
        data_gb=1.0,
        memory_gb=16.0,
        realtime=False,
        prefer_stability=False,
        label_delay="days",
        drift_kind=None,
        partial_fit=True,
    )
    unknown = set(answers) - set(first)
    if unknown:
        raise TypeError(f"answers must be arguments of recommend, got unknown {sorted(unknown)}")
    first.update(answers)
    decision.recommend(**first)  # a bad first state fails here, before any widget is made
    style = {"description_width": "initial"}
    controls = {
        "change": widgets.Dropdown(
            options=list(decision.CHANGE),
            value=first["change"],
            description="data changes",
            style=style,
        ),
        "data_gb": widgets.FloatLogSlider(
            value=first["data_gb"],
            min=-1,
            max=4,
            description="data (GB)",
            style=style,
            continuous_update=False,
        ),
        "memory_gb": widgets.FloatLogSlider(
            value=first["memory_gb"],
            min=0,
            max=3,
            description="memory (GB)",
            style=style,
            continuous_update=False,
        ),
        "realtime": widgets.Checkbox(
            value=first["realtime"], description="real-time adaptation needed"
        ),
        "prefer_stability": widgets.Checkbox(
            value=first["prefer_stability"], description="stability over adaptability"
        ),
        "label_delay": widgets.Dropdown(
            options=list(decision.LABEL_DELAY),
            value=first["label_delay"],
            description="labels arrive within",
            style=style,
        ),
        "drift_kind": widgets.Dropdown(
            options=[("not known", None)] + [(k, k) for k in decision.DRIFT_KINDS],
            value=first["drift_kind"],
            description="kind of drift",
            style=style,
        ),
        "partial_fit": widgets.Checkbox(
            value=first["partial_fit"], description="the estimator has partial_fit"
        ),
    }
    advice, out = widgets.HTML(), widgets.Output()

    def update(change=None):
        values = {name: c.value for name, c in controls.items()}
        try:
            rec = decision.recommend(**values)
        except ValueError as error:
            advice.value = f"<b>Contradictory answers:</b> {html.escape(str(error))}"
            out.outputs = ()  # the plot of the last consistent answers would answer another question
            return
        runs = decision.simulate_modes(
            values["change"],
            data_gb=values["data_gb"],
            memory_gb=values["memory_gb"],
            label_delay=values["label_delay"],
            n_stream=n_stream,
            seed=seed,
        )
        line, table = decision.simulation_verdict(
            runs,
            realtime=values["realtime"],
            prefer_stability=values["prefer_stability"],
            data_gb=values["data_gb"],
            memory_gb=values["memory_gb"],
        )
        agree = "agrees" if decision.line_of(rec.mode) == line else "disagrees"
        advice.value = (
            rec._repr_html_() + f"<p>The simulation ({html.escape(table['score used'].iloc[0])}) "
            f"favours <b>{html.escape(line)}</b>: it {agree} with the guide.</p>"
        )
        with out:
            out.outputs = ()
            fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
            plot_situation(rec, runs, ax=ax)
            plt.show()
            plt.close(fig)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return widgets.VBox([widgets.VBox(list(controls.values())), advice, out])


def learning_rate_explorer(
    scenario, metric, *, rates=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0), value=None, runs=None
):
    """A slider over the SGD learning rate of an online linear model: adapting against forgetting.

    Redraws the rolling metric of the online model at the chosen rate next to the slowest one,
    with the events it takes to recover after the drift in the title.

    Parameters
    ----------
    scenario
        A scenario with a drift.
    metric
        A river metric.
    rates
        The slider's learning rates.
    value
        The slider's first rate (default: the middle one).
    runs
        ``{rate: Timeline}``: the online model already run on ``scenario`` at some of the rates
        with ``metric`` (a chapter's sweep), drawn as they are instead of being run again.

    Examples
    --------
    >>> from river import metrics
    >>> import deployment_modes as dm
    >>> sc = dm.scenarios.drifting_classification(n_initial=50, n_stream=300, drift_at=150)
    >>> box = learning_rate_explorer(sc, metrics.Accuracy(), rates=(0.01, 0.1))
    >>> type(box).__name__
    'VBox'
    """
    if not rates:
        raise ValueError("rates must hold at least one learning rate")
    rates = list(rates)
    runs = _given_runs(runs, rates, scenario, metric)

    def run(lr):
        if lr not in runs:
            runs[lr] = simulate(
                scenario,
                OnlineDeployment(sgd_model(scenario.task, lr)),
                metric,
                name=f"learning rate {lr:g}",
            )
        return runs[lr]

    slider = widgets.SelectionSlider(
        options=rates,
        value=value if value in rates else rates[len(rates) // 2],
        description="learning rate",
        style={"description_width": "initial"},
    )
    out = widgets.Output()

    def draw(change=None):
        slow, tl = run(rates[0]), run(slider.value)
        with out:
            out.outputs = ()
            fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
            plot_timeline(
                {slow.name: slow, tl.name: tl} if tl is not slow else {tl.name: tl},
                ax=ax,
                warmup=200,
            )
            if scenario.drift_at:
                recover = events_to_recover(tl)
                ax.set_title(
                    f"learning rate {slider.value:g}: "
                    + (
                        "never recovers after the drift"
                        if recover is None
                        else f"recovers {recover} events after the drift"
                    )
                )
            plt.show()
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])
