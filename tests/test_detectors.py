"""Drift detectors measured: delays, false alarms and missed drifts, and the claims of the Retraining chapter."""

import math

import numpy as np
import pandas as pd
import pytest
from river import drift

from deployment_modes import detectors

SEEDS, N_STREAM = range(5), 1000  # as in the chapter


def test_measures_on_a_stream_whose_answer_is_known():
    errors = [0.0] * 300 + [1.0] * 100
    alarms = detectors.detect(drift.ADWIN(), errors)
    row = detectors.measure_detectors({"ADWIN": drift.ADWIN()}, [(errors, 300)]).iloc[0]
    assert row["delay"] == alarms[0] - 300 and row["false_alarms"] == 0 and row["stable_events"] == 300
    missed = detectors.measure_detectors({"ADWIN": drift.ADWIN()}, [(errors, 300)], max_delay=5).iloc[0]
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

    table = detectors.summarize_detectors(detectors.measure_detectors({"fake": EveryHundred()}, [([0.0] * 1000, 500)]))
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


@pytest.fixture(scope="module")
def table():
    tables = {}
    for kind in ("sudden", "gradual"):
        streams = detectors.error_streams(kind, SEEDS, n_stream=N_STREAM, drift_at=int(0.6 * N_STREAM))
        for setting, chosen in (("default", detectors.default_detectors()), ("tuned", detectors.tuned_detectors())):
            tables[(kind, setting)] = detectors.summarize_detectors(detectors.measure_detectors(chosen, streams))
    return pd.concat(tables, names=["drift", "setting", "detector"])


def test_chapter_claims_on_detectors(table):
    n = len(SEEDS)
    for kind in ("sudden", "gradual"):
        for name in ("PageHinkley", "KSWIN"):  # at their defaults they miss every drift here
            assert table.loc[(kind, "default", name), "missed"] == n
        for name in ("ADWIN", "DDM", "EDDM"):
            assert table.loc[(kind, "default", name), "missed"] < n
    adwin_default, adwin_tuned = table.loc[("sudden", "default", "ADWIN")], table.loc[("sudden", "tuned", "ADWIN")]
    assert adwin_default["missed"] >= 1 and adwin_tuned["missed"] == 0
    assert adwin_tuned["mean_delay"] < adwin_default["mean_delay"]
    for kind in ("sudden", "gradual"):  # tuned PageHinkley: the quickest of those with no false alarm, no miss
        quiet = table.loc[kind][(table.loc[kind]["false_alarms_per_10k"] == 0) & (table.loc[kind]["missed"] == 0)]
        assert quiet["mean_delay"].idxmin() == ("tuned", "PageHinkley")
    eddm = table.loc[("sudden", "default", "EDDM")]
    assert eddm["false_alarms_per_10k"] > 0 and eddm["mean_delay"] < adwin_default["mean_delay"]
    assert table.loc[("sudden", "tuned", "KSWIN"), "missed"] >= 1
    for name in ("ADWIN", "DDM", "EDDM"):  # a gradual drift takes longer to notice (the drift-kinds section)
        assert table.loc[("gradual", "default", name), "mean_delay"] > table.loc[("sudden", "default", name), "mean_delay"]
