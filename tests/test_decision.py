import math

import pytest

import deployment_modes as dm
from deployment_modes import decision


@pytest.mark.parametrize("answers, mode", [
    (dict(change="stable", data_gb=2, memory_gb=16), "batch"),                                  # house prices
    (dict(change="fast", realtime=True, label_delay="seconds"), "online"),                      # stock trading
    (dict(change="slow", data_gb=2000, memory_gb=64), "out-of-core"),                           # a text corpus, trained once
    (dict(change="fast", data_gb=2000, memory_gb=64, label_delay="hours"), "out-of-core, then online"),
    (dict(change="fast", prefer_stability=True), "batch"),                                      # audited, regulated
    (dict(change="fast", label_delay="weeks"), "batch"),                                        # labels too late to help
    (dict(change="slow"), "batch"),
    (dict(change="slow", realtime=True, label_delay="hours"), "online"),
])
def test_canonical_situations(answers, mode):
    rec = dm.recommend(**answers)
    assert rec.mode == mode and rec.mode in decision.MODES
    assert rec.reasons and all(isinstance(r, str) and r for r in rec.reasons)


def test_online_comes_with_a_monitoring_caveat():
    rec = dm.recommend(change="fast", realtime=True, label_delay="seconds")
    assert any("monitoring" in c for c in rec.caveats)


def test_fast_data_kept_static_warns_of_staleness():
    rec = dm.recommend(change="fast", prefer_stability=True)
    assert any("stale" in c for c in rec.caveats)
    assert any("stable, reproducible" in r for r in rec.reasons)


def test_out_of_core_warns_about_chunk_order_and_says_why():
    rec = dm.recommend(change="slow", data_gb=100, memory_gb=8)
    assert any("does not fit" in r for r in rec.reasons)
    assert any("order" in c for c in rec.caveats)


def test_memory_boundary():
    assert dm.recommend(data_gb=16, memory_gb=16).mode == "batch"        # fits, just
    assert any("half" in c for c in dm.recommend(data_gb=16, memory_gb=16).caveats)
    assert dm.recommend(data_gb=16.5, memory_gb=16).mode == "out-of-core"
    assert not any("half" in c for c in dm.recommend(data_gb=1, memory_gb=16).caveats)


@pytest.mark.parametrize("answers, names", [
    (dict(change="fast", realtime=True, prefer_stability=True), ["realtime", "prefer_stability"]),
    (dict(change="fast", realtime=True, label_delay="weeks"), ["realtime", "label_delay"]),
    (dict(change="stable", realtime=True), ["realtime", "change"]),
])
def test_contradictory_answers_are_refused(answers, names):
    with pytest.raises(ValueError) as error:
        dm.recommend(**answers)
    assert all(name in str(error.value) for name in names)


@pytest.mark.parametrize("answers, exc, name", [
    (dict(change="medium"), ValueError, "change"),
    (dict(change=3), TypeError, "change"),
    (dict(data_gb=-1), ValueError, "data_gb"),
    (dict(data_gb=0), ValueError, "data_gb"),
    (dict(data_gb=math.nan), ValueError, "data_gb"),
    (dict(data_gb="10"), TypeError, "data_gb"),
    (dict(memory_gb=True), TypeError, "memory_gb"),
    (dict(memory_gb=math.inf), ValueError, "memory_gb"),
    (dict(realtime="yes"), TypeError, "realtime"),
    (dict(prefer_stability=1), TypeError, "prefer_stability"),
    (dict(label_delay="never"), ValueError, "label_delay"),
    (dict(label_delay=None), TypeError, "label_delay"),
])
def test_bad_inputs_name_the_argument(answers, exc, name):
    with pytest.raises(exc, match=name):
        dm.recommend(**answers)


def test_answers_are_keyword_only():
    with pytest.raises(TypeError):
        dm.recommend("fast")


def test_recommendation_renders_in_words():
    rec = dm.recommend(change="fast", realtime=True, label_delay="seconds")
    assert str(rec).startswith("Recommended: online") and "caveat" in str(rec)
    assert "<b>Recommended: online</b>" in rec._repr_html_()


def test_line_of_every_mode():
    assert [decision.line_of(m) for m in decision.MODES] == ["batch", "online", "batch", "out-of-core, then online"]
    with pytest.raises(ValueError, match="mode"):
        decision.line_of("streaming")


def test_situation_scenario_follows_the_answers():
    stable = decision.situation_scenario("stable", n_stream=500)
    fast = decision.situation_scenario("fast", n_stream=500)
    slow = decision.situation_scenario("slow", n_stream=500)
    assert stable.drift_at == () and len(stable) == 500
    assert fast.drift_at == (250,) and fast.info["width"] == 50
    assert slow.info["width"] > fast.info["width"]
    big = decision.situation_scenario("fast", n_stream=500, data_gb=64, memory_gb=16)
    assert len(big.initial[1]) == 4 * len(fast.initial[1])
    with pytest.raises(ValueError, match="n_stream"):
        decision.situation_scenario("fast", n_stream=50)
    with pytest.raises(ValueError, match="change"):
        decision.situation_scenario("sudden")


# The chapter's claims, on its scenario and seed (the form's situations at n_stream=3000, seed=0).

@pytest.fixture(scope="module")
def fast_runs():
    return decision.simulate_modes("fast", n_stream=3000, seed=0)


@pytest.fixture(scope="module")
def stable_runs():
    return decision.simulate_modes("stable", n_stream=3000, seed=0)


def test_fast_change_the_recommended_online_beats_batch_after_the_drift(fast_runs):
    drift = fast_runs["online"].drift_at[0]
    assert fast_runs["online"].window_score(drift) > fast_runs["batch"].window_score(drift) + 0.02
    assert fast_runs["online"].score > fast_runs["batch"].score


def test_stable_data_online_gains_little_over_batch(stable_runs):
    assert abs(stable_runs["online"].score - stable_runs["batch"].score) < 0.02


def test_form_default_state_and_updates():
    form = dm.widgets.decision_form(n_stream=300, change="fast", realtime=True, label_delay="seconds")
    controls, advice, out = form.children
    assert "Recommended: online" in advice.value
    boxes = {c.description: c for c in controls.children}
    boxes["real-time adaptation needed"].value = False
    boxes["stability over adaptability"].value = True
    assert "Recommended: batch" in advice.value
    out.outputs = ({"output_type": "stream", "name": "stdout", "text": "the last plot"},)  # as in a kernel
    boxes["real-time adaptation needed"].value = True           # now contradictory: said, not raised
    assert "Contradictory" in advice.value and "prefer_stability" in advice.value
    assert out.outputs == (), "the plot of the previous answers is cleared"


def test_form_refuses_a_bad_first_state():
    with pytest.raises(TypeError, match="answers"):
        dm.widgets.decision_form(speed="fast")
    with pytest.raises(ValueError, match="change"):
        dm.widgets.decision_form(change="medium")
