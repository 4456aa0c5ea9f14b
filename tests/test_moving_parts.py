"""Moving parts: each deployment lists what a team runs for it; the chapters count those lists."""

import numpy as np
import pytest
from chapter_code import code
from river import linear_model
from sklearn.linear_model import LogisticRegression, SGDClassifier

import deployment_modes as dm
from deployment_modes import comparison


def test_batch_lists_its_store_job_scheduler_test_and_swap():
    periodic = dm.BatchDeployment(LogisticRegression(), retrain_every=500).moving_parts
    assert list(periodic) == [
        "store of labelled events",
        "retraining job, from scratch",
        "scheduler of the retrains",
        "test of the new model before release",
        "model registry and swap (redeploy)",
    ]
    triggered = dm.BatchDeployment(
        LogisticRegression(), window=200, trigger=dm.AlarmThenCollect(collect=200)
    ).moving_parts
    assert "scheduler of the retrains" not in triggered  # the trigger starts the job
    assert triggered["drift trigger on the served model's errors"] == "every event"
    assert len(triggered) == 5
    static = dm.BatchDeployment(LogisticRegression()).moving_parts
    assert (
        "retraining job, from scratch" not in static
        and "model registry and swap (redeploy)" not in static
    )


def test_online_lists_its_label_feed_and_learner_and_guardrails_add_theirs():
    plain = dm.OnlineDeployment(linear_model.LogisticRegression())
    assert len(plain.moving_parts) == 2
    guarded = comparison.guarded_online()
    assert len(guarded.moving_parts) == 6
    assert list(guarded.moving_parts)[:2] == list(plain.moving_parts)
    assert comparison.production_parts(plain) == guarded.moving_parts


def test_out_of_core_then_online_carries_its_first_trainings_parts():
    chunks = [(np.array([[0.0], [1.0]]), np.array([0, 1]))] * 3
    trainer = dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(chunks)
    deployed = trainer.to_online(batch_size=10)
    assert list(deployed.moving_parts)[:3] == list(trainer.moving_parts)
    assert deployed.moving_parts["model updated in place on the server"] == "every 10 events"
    assert len(comparison.production_parts(deployed)) == 3 + 6
    deployed.fit_initial(np.array([[0.0], [1.0]]), [0, 1])  # trained in memory: no chunks now
    assert list(deployed.moving_parts) == list(
        dm.OnlineDeployment(SGDClassifier(), classes=[0, 1]).moving_parts
    )


def test_production_parts_refuses_what_has_no_parts():
    with pytest.raises(TypeError, match="deployment"):
        comparison.production_parts(object())


def test_no_chapter_counts_a_hand_typed_list():
    assert not hasattr(comparison, "MOVING_PARTS")
    for chapter in ("comparison", "online", "out_of_core"):
        source = code(chapter)
        assert "MOVING_PARTS" not in source
        assert "moving_parts" in source or "production_parts" in source
