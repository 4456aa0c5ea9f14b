"""Interactive controls (ipywidgets) that drive the same functions as the static cells.

Each function returns a widget whose first state is the figure the page shows statically.
Defined in the Batch learning chapter (``book/batch.ipynb``); ``learning_rate_explorer`` in the
Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .batch import BatchDeployment
from .online import OnlineDeployment, events_to_recover, sgd_model
from .plots import plot_timeline
from .timeline import simulate

__all__ = ["learning_rate_explorer", "retrain_interval_explorer"]


def retrain_interval_explorer(scenario, estimator, metric, *, intervals=(250, 500, 1000, 2000),
                              window: int | None = None):
    """A slider over the retrain interval that redraws static vs retrained timelines.

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
    static = simulate(scenario, BatchDeployment(estimator), metric, label="static")
    slider = widgets.SelectionSlider(options=list(intervals), value=intervals[len(intervals) // 2],
                                     description="retrain every", style={"description_width": "initial"})
    out = widgets.Output()

    def draw(change=None):
        k = slider.value
        tl = simulate(scenario, BatchDeployment(estimator, retrain_every=k, window=window), metric,
                      label=f"retrain every {k} events")
        with out:
            out.outputs = ()
            fig, ax = plt.subplots(figsize=(8, 3.2))
            plot_timeline({"static": static, tl.label: tl}, ax=ax)
            ax.set_title(f"{len(tl.retrains)} retrains, score {tl.score:.3f} (static {static.score:.3f})")
            plt.show()  # inside a notebook the inline backend draws it into the Output
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])


def learning_rate_explorer(scenario, metric, *, rates=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0), value=None):
    """A slider over the SGD learning rate of an online linear model: adapting against forgetting.

    Redraws the rolling metric of the online model at the chosen rate next to the slowest one,
    with the events it takes to recover after the drift in the title.

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
    runs = {}

    def run(lr):
        if lr not in runs:
            runs[lr] = simulate(scenario, OnlineDeployment(sgd_model(scenario.task, lr)), metric,
                                label=f"learning rate {lr:g}")
        return runs[lr]

    slider = widgets.SelectionSlider(options=rates, value=value if value in rates else rates[len(rates) // 2],
                                     description="learning rate", style={"description_width": "initial"})
    out = widgets.Output()

    def draw(change=None):
        slow, tl = run(rates[0]), run(slider.value)
        with out:
            out.outputs = ()
            fig, ax = plt.subplots(figsize=(8, 3.2))
            plot_timeline({slow.label: slow, tl.label: tl} if tl is not slow else {tl.label: tl}, ax=ax)
            if scenario.drift_at:
                recover = events_to_recover(tl)
                ax.set_title(f"learning rate {slider.value:g}: "
                             + ("never recovers after the drift" if recover is None
                                else f"recovers {recover} events after the drift"))
            plt.show()
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])
