"""The delay experiment's functions (the chapter's claims are in test_late_labels_claims.py)."""

import pandas as pd
import pytest

from deployment_modes import delay_experiment as de


def test_bad_arguments():
    with pytest.raises(ValueError, match="delays"):
        de.delay_sweep(delays=[-1])
    with pytest.raises(ValueError, match="seeds"):
        de.delay_sweep(seeds=[])
    with pytest.raises(ValueError, match="task"):
        de.deployments("ranking")
    with pytest.raises(TypeError, match="table"):
        de.summarize(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="delay 0"):
        de.optimism(
            pd.DataFrame({"seed": [0], "delay": [5], "mode": ["online"], "after_drift": [0.5]})
        )


def test_lean_neighbours_predict_as_scikit_learns_on_the_prices():
    from river import metrics
    from sklearn.neighbors import KNeighborsRegressor

    import deployment_modes as dm

    apple = dm.scenarios.stock_prices("apple")
    runs = [
        dm.simulate(apple, dm.BatchDeployment(est, retrain_every=60), metrics.MAE(), delay=20)
        for est in (KNeighborsRegressor(n_neighbors=10), dm.LeanKNeighborsRegressor(n_neighbors=10))
    ]
    assert runs[0].y_pred == runs[1].y_pred
