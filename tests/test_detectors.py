"""Drift detectors measured: delays, false alarms and missed drifts (the chapter's claims:
test_retraining_claims.py)."""

import math

import numpy as np
import pytest
from river import drift

from deployment_modes import detectors

SEEDS = range(5)  # the chapter's seeds: the tuning seeds must differ


def test_measures_on_a_stream_whose_answer_is_known():
    errors = [0.0] * 300 + [1.0] * 100
    alarms = detectors.detect(drift.ADWIN(), errors)
    row = detectors.measure_detectors({"ADWIN": drift.ADWIN()}, [(errors, 300)]).iloc[0]
    assert (
        row["delay"] == alarms[0] - 300 and row["false_alarms"] == 0 and row["stable_events"] == 300
    )
    missed = detectors.measure_detectors(
        {"ADWIN": drift.ADWIN()}, [(errors, 300)], max_delay=5
    ).iloc[0]
    assert math.isnan(missed["delay"])


def test_false_alarms_are_alarms_before_the_drift_per_10000_stable_events():
    class EveryHundred:  # a fake detector: an alarm every 100 events
        def __init__(self):
            self.n, self.drift_detected = 0, False

        def update(self, x):
            self.n += 1
            self.drift_detected = self.n % 100 == 0

        def clone(self):
            return EveryHundred()

    table = detectors.summarize_detectors(
        detectors.measure_detectors({"fake": EveryHundred()}, [([0.0] * 1000, 500)])
    )
    assert table.loc["fake", "false_alarms_per_10k"] == pytest.approx(1e4 * 5 / 500)
    assert table.loc["fake", "mean_delay"] == 99 and table.loc["fake", "missed"] == 0


def test_the_memoised_ks_test_gives_kswin_the_same_alarms():
    rng = np.random.default_rng(0)
    errors = (rng.random(600) < np.r_[np.full(300, 0.1), np.full(300, 0.6)]).astype(float)
    plain = drift.KSWIN(seed=0)
    alarms = []
    for i, e in enumerate(errors):
        plain.update(e)
        if plain.drift_detected:
            alarms.append(i)
    assert alarms and detectors.detect(drift.KSWIN(seed=0), errors) == alarms
    from river.drift import kswin
    from scipy import stats

    assert kswin.stats is stats  # put back after use


def test_tuned_settings_are_what_tune_picks_on_the_tuning_seeds():
    streams = detectors.error_streams("sudden", detectors.TUNING_SEEDS)
    assert {name: detectors.tune(name, streams) for name in detectors.GRIDS} == detectors.TUNED
    assert not set(detectors.TUNING_SEEDS) & set(SEEDS)


def test_bad_arguments_raise():
    with pytest.raises(TypeError, match="detector"):
        detectors.detect(object(), [0.0])
    with pytest.raises(TypeError, match="detectors"):
        detectors.measure_detectors({}, [([0.0, 1.0], 1)])
    with pytest.raises(ValueError, match="drift_at"):
        detectors.measure_detectors({"ADWIN": drift.ADWIN()}, [([0.0, 1.0], 5)])
    with pytest.raises(ValueError, match="streams"):
        detectors.measure_detectors({"ADWIN": drift.ADWIN()}, [])
    with pytest.raises(ValueError, match="name"):
        detectors.tune("CUSUM", [])
    with pytest.raises(ValueError, match="seeds"):
        detectors.error_streams(seeds=[])


def test_the_memoised_ks_test_returns_scipys_result():
    from scipy import stats

    memo = detectors._MemoStats()
    rng = np.random.default_rng(1)
    for a, b in [
        (
            (rng.random(150) < 0.2).astype(float).tolist(),
            (rng.random(150) < 0.5).astype(float).tolist(),
        ),
        (rng.normal(size=30).tolist(), rng.normal(1.0, size=40).tolist()),
        ([0.0, 1.0, float("nan")], [1.0, 1.0, 0.0]),
    ]:
        ours, scipys = memo.ks_2samp(a, b), stats.ks_2samp(a, b, method="auto")
        assert (ours.statistic, ours.pvalue) == (scipys.statistic, scipys.pvalue) or (
            np.isnan(ours.pvalue) and np.isnan(scipys.pvalue)
        )
        if not np.isnan(a).any():  # the same multiset: remembered
            assert memo.ks_2samp(list(reversed(a)), b) is ours
