"""The claims of the Late labels and safe releases chapter (book/late_labels.ipynb), on its seeds and sizes.

The chapter calls delay_sweep, price_delay_sweep and release_table with their defaults on these seeds.
"""

import numpy as np
import pytest

from deployment_modes import delay_experiment as de
from deployment_modes.release_experiment import release_table

SEEDS = [0, 1, 2, 3, 4]  # the chapter's seeds


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
    assert lead.loc[1000, "seeds_ahead"] < len(
        SEEDS
    )  # by 1000 events (the stretch measured) it is lost
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


@pytest.fixture(scope="module")
def releases():
    return release_table(SEEDS)  # the chapter's call, at its default sizes


def test_a_poisoned_candidate_is_caught_in_shadow_before_any_user_sees_it(releases):
    shadow = releases[(releases.release == "shadow") & (releases.candidate == "poisoned")]
    assert len(shadow) == len(SEEDS)
    assert not shadow.promoted.any() and (shadow.exposed == 0).all()
    assert (
        shadow.release_accuracy == shadow.champion_accuracy
    ).all()  # users got the champion, untouched
    assert (
        shadow.blind_accuracy < shadow.release_accuracy
    ).all()  # a blind swap would have hurt them


def test_a_good_candidate_is_promoted_by_shadow_and_canary(releases):
    good = releases[releases.candidate == "good"]
    assert good.promoted.all()
    assert (good.after_release > good.champion_after).all()


def test_a_canary_catches_the_poisoned_candidate_but_some_users_see_it(releases):
    canary = releases[(releases.release == "canary") & (releases.candidate == "poisoned")]
    assert not canary.promoted.any()
    assert (canary.exposed > 0).all() and (canary.exposed < canary.decided_after).all()
    assert (
        canary.release_accuracy < canary.champion_accuracy
    ).all()  # the canary slice paid for the evidence
    assert (canary.release_accuracy > canary.blind_accuracy).all()


def test_labels_100_events_late_cost_the_online_model_on_phishing():
    # the chapter's first run: river's Phishing dataset, one real stream
    from river import datasets, linear_model, metrics, preprocessing

    import deployment_modes as dm

    def model():
        return preprocessing.StandardScaler() | linear_model.LogisticRegression()

    late = dm.simulate(
        datasets.Phishing(), dm.OnlineDeployment(model()), metrics.Accuracy(), delay=100
    )
    at_once = dm.simulate(datasets.Phishing(), dm.OnlineDeployment(model()), metrics.Accuracy())
    assert late.score < at_once.score and len(late) == 1250
