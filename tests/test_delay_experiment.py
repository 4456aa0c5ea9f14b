"""The Late labels chapter's claims about label delay, asserted on its seeds and sizes."""

import numpy as np
import pandas as pd
import pytest

from deployment_modes import delay_experiment as de

SEEDS = [0, 1, 2, 3, 4]  # the chapter's seeds, at delay_sweep's default sizes (the chapter's)


@pytest.fixture(scope="module")
def sweep():
    return de.delay_sweep(seeds=SEEDS)


def test_online_leads_after_the_drift_on_every_seed_until_the_delay_nears_the_horizon(sweep):
    lead = de.lead_table(sweep)
    delays = list(lead.index)
    assert delays == [0, 100, 300, 1000]
    for d in (0, 100, 300):
        assert lead.loc[d, "seeds_ahead"] == len(SEEDS), d
    assert np.all(np.diff(lead["mean"].to_numpy()) < 0)  # the lead shrinks as labels come later
    assert lead.loc[1000, "seeds_ahead"] < len(SEEDS)  # by 1000 events (the stretch measured) it is lost
    assert de.advantage_vanishes(sweep)["any_seed"] == 1000


def test_immediate_label_evaluation_is_optimistic_under_delay(sweep):
    opt = de.optimism(sweep)
    late = opt[opt.delay > 0]
    for mode in ("online", "batch"):
        assert (late[late["mode"] == mode].optimism > 0).all(), mode
    mean = opt[opt["mode"] == "online"].groupby("delay").optimism.mean()
    assert np.all(np.diff(mean.to_numpy()) > 0)
    by_mode = opt[opt.delay == 1000].groupby("mode").optimism.mean()
    assert by_mode["online"] == by_mode.max()  # the mode that learns fastest is flattered most


def test_on_prices_online_loses_its_edge_within_days_of_delay():
    prices = de.price_delay_sweep()  # the chapter's call: Apple, delays 0, 20 and 60 trading days
    mae = prices.set_index(["delay", "mode"])["mae"]
    assert mae[(0, "online")] < mae[(0, "batch")]
    assert mae[(20, "online")] > mae[(20, "batch")]
    rel = prices.set_index(["delay", "mode"])["relative"]
    for d in (20, 60):
        assert rel[(d, "online")] > rel[(d, "batch")]


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
        de.optimism(pd.DataFrame({"seed": [0], "delay": [5], "mode": ["online"], "after_drift": [0.5]}))


def test_lean_neighbours_predict_as_scikit_learns_on_the_prices():
    from river import metrics
    from sklearn.neighbors import KNeighborsRegressor

    import deployment_modes as dm

    apple = dm.scenarios.stock_prices("apple")
    runs = [dm.simulate(apple, dm.BatchDeployment(est, retrain_every=60), metrics.MAE(), delay=20)
            for est in (KNeighborsRegressor(n_neighbors=10), dm.LeanKNeighborsRegressor(n_neighbors=10))]
    assert runs[0].y_pred == runs[1].y_pred
