"""Interactive controls (ipywidgets) that drive the same functions as the static cells.

Each function returns a widget whose first state is the figure the page shows statically.
Defined in the Batch learning chapter (``book/batch.ipynb``).
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .batch import BatchDeployment
from .plots import plot_timeline
from .timeline import simulate

__all__ = ["retrain_interval_explorer"]


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
