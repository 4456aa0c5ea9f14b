"""The server joins late labels to its logged predictions, durably; /deploy can hold a candidate in shadow.

Real server processes on 127.0.0.1 (deployment_modes.serve.start), killed with SIGKILL where it matters.
"""

import threading
import time

import httpx
import pytest

from deployment_modes import scenarios, serve
from deployment_modes.durable import DurableDeployment
from deployment_modes.label_join import LabelJoin, ShadowCandidate

STREAM = list(scenarios.drifting_classification(seed=0))  # the default deployments' scenario


def post(client, path, body):
    response = client.post(path, json=body)
    response.raise_for_status()
    return response.json()


def predict_label_run(folder, crash: bool):
    """40 predictions, 20 labels, (kill -9, restart), the 20 other labels; the learned model's state."""
    events = STREAM[:40]
    server = serve.start(folder, mode="online", label_window=600)
    try:
        with httpx.Client(base_url=server.url) as client:
            ids = [post(client, "/predict", {"x": x})["prediction_id"] for x, _ in events]
            post(
                client,
                "/label_many",
                {
                    "labels": [
                        {"prediction_id": i, "y": y} for i, (_, y) in zip(ids[:20], events[:20])
                    ]
                },
            )
        if crash:
            server.kill()  # SIGKILL: 20 predictions wait for their labels, only in the log
            server = serve.start(folder, label_window=600)
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/metrics").json()["labels"]["pending"] == 20
            for i, (_, y) in zip(ids[20:], events[20:]):
                assert post(client, "/label", {"prediction_id": i, "y": y})["learned"] == 1
            metrics = client.get("/metrics").json()
    finally:
        server.stop()
    with DurableDeployment(folder) as state:
        model = state.deployment.model
        probes = [model.predict_proba_one(x) for x, _ in STREAM[100:150]]
        return probes, state.n_seen, state.model_version, metrics


@pytest.mark.slow
def test_a_label_joins_after_kill_9_and_the_model_equals_the_uncrashed_one(tmp_path):
    crashed = predict_label_run(tmp_path / "crashed", crash=True)
    clean = predict_label_run(tmp_path / "clean", crash=False)
    assert crashed[1] == clean[1] == 40
    assert crashed[2] == clean[2]
    assert crashed[0] == clean[0]  # the same model, to the last bit of every probability
    labels = crashed[3]["labels"]
    assert labels["pending"] == 0 and labels["labelled"] == 40 and labels["expired"] == 0
    assert labels["label_delay_seconds"]["p50"] <= labels["label_delay_seconds"]["p90"]


@pytest.mark.slow
def test_unknown_twice_and_late_labels_are_refused_and_counted(tmp_path):
    # a window of 4 s: the requests before the sleep fit in it even when a loaded machine's disk
    # stalls an fsync (with 1 s, the second label of `first` once came after its window: 410)
    with (
        serve.start(tmp_path / "state", mode="online", label_window=4.0) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        (x, y), (x2, y2) = STREAM[0], STREAM[1]
        first = post(client, "/predict", {"x": x})["prediction_id"]
        assert (
            client.post("/label", json={"prediction_id": "no-such-id", "y": y}).status_code == 404
        )
        assert client.post("/label", json={"prediction_id": first, "y": "cat"}).status_code == 422
        assert client.post("/label", json={"prediction_id": first, "y": y}).status_code == 200
        assert client.post("/label", json={"prediction_id": first, "y": y}).status_code == 409
        late = post(client, "/predict", {"x": x2})["prediction_id"]
        waiting = post(client, "/predict", {"x": x2})["prediction_id"]
        time.sleep(4.5)
        response = client.post("/label", json={"prediction_id": late, "y": y2})
        assert response.status_code == 410 and "window" in response.json()["detail"]
        assert client.post("/label", json={"prediction_id": late, "y": y2}).status_code == 410
        # a batch with one bad label changes nothing
        fresh = post(client, "/predict", {"x": x2})[
            "prediction_id"
        ]  # also expires `waiting`, unlabelled
        both = {"labels": [{"prediction_id": fresh, "y": y2}, {"prediction_id": first, "y": y}]}
        assert client.post("/label_many", json=both).status_code == 409
        metrics = client.get("/metrics").json()
        assert metrics["events_seen"] == 1
        assert metrics["labels"]["expired"] == 2 and metrics["labels"]["pending"] == 1
        assert (
            client.post("/label", json={"prediction_id": waiting, "y": y2}).status_code == 410
        )  # swept, expired
        assert client.post("/label", json={"prediction_id": fresh, "y": y2}).status_code == 200


@pytest.mark.slow
def test_predictions_are_not_logged_without_a_label_window(tmp_path):
    with (
        serve.start(tmp_path / "state", mode="online") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        assert "prediction_id" not in post(client, "/predict", {"x": STREAM[0][0]})
        assert client.post("/label", json={"prediction_id": "x", "y": 0}).status_code == 503
        assert client.get("/metrics").json()["labels"] is None


def shadow_deploy(server, events, shadow: int):
    """POST /deploy {"shadow": n} while `events` are learned, 10 per request; the deploy's response."""
    answer = {}

    def deploy():
        answer["response"] = httpx.post(
            server.url + "/deploy", json={"shadow": shadow, "timeout": 120}, timeout=150
        )

    thread = threading.Thread(target=deploy)
    with httpx.Client(base_url=server.url) as client:
        thread.start()
        while client.get("/metrics").json()["shadow"] is None:
            time.sleep(0.02)
        for i in range(0, len(events), 10):
            post(
                client, "/learn_many", {"events": [{"x": x, "y": y} for x, y in events[i : i + 10]]}
            )
        thread.join(150)
        return answer["response"], client.get("/metrics").json()


@pytest.mark.slow
def test_a_poisoned_candidate_is_caught_in_shadow_and_refused(tmp_path):
    before = STREAM[:1000]
    poisoned = [(x, 1 - y) for x, y in before]  # a labelling job that inverted every label
    with serve.start(tmp_path / "state", mode="batch") as server:
        with httpx.Client(base_url=server.url) as client:
            for i in range(0, 1000, 250):
                post(
                    client,
                    "/learn_many",
                    {"events": [{"x": x, "y": y} for x, y in poisoned[i : i + 250]]},
                )
        response, metrics = shadow_deploy(server, STREAM[1000:1100], shadow=100)
    assert response.status_code == 200
    body = response.json()
    assert body["swapped"] is False and "candidate made" in body["reason"]
    assert body["model_version"] == 1 and metrics["model_version"] == 1  # users never saw it
    assert (
        metrics["last_deploy"]["state"] == "refused"
        and metrics["last_deploy"]["reason"] == body["reason"]
    )
    assert body["errors"]["candidate"] > body["errors"]["served"]


@pytest.mark.slow
def test_a_better_candidate_is_promoted_after_its_shadow(tmp_path):
    drift = 2000
    with serve.start(tmp_path / "state", mode="batch") as server:
        with httpx.Client(base_url=server.url) as client:
            for i in range(drift, drift + 1000, 250):
                post(
                    client,
                    "/learn_many",
                    {"events": [{"x": x, "y": y} for x, y in STREAM[i : i + 250]]},
                )
        response, metrics = shadow_deploy(server, STREAM[drift + 1000 : drift + 1100], shadow=100)
    body = response.json()
    assert (
        body["swapped"] is True
        and body["model_version"] == 2
        and metrics["last_deploy"]["state"] == "swapped"
    )
    # the swap is in the log: a restart serves the promoted model
    with DurableDeployment(tmp_path / "state") as state:
        assert state.model_version == 2


def test_join_and_shadow_objects():
    join = LabelJoin(window=10)
    join.add("a", [1.0], 0, at=0.0)
    assert join.stale(now=5.0) == [] and join.stale(now=11.0) == ["a"]
    join.claim("a", now=5.0)
    assert join.stale(now=11.0) == []  # a label being logged is not expired under it
    join.release("a")
    join.expire(["a"])
    assert join.stats()["expired"] == 1 and join.stats()["label_delay_seconds"]["p50"] is None
    with pytest.raises(ValueError, match="label_window"):
        LabelJoin(window=0)
    with pytest.raises(TypeError, match="prediction_id"):
        join.claim(3, now=0.0)
    import pickle

    assert pickle.loads(pickle.dumps(join)).expired == 1
    from sklearn.dummy import DummyRegressor

    shadow = ShadowCandidate(
        DummyRegressor().fit([[0.0]], [2.0]), 1, 0.0, 1, n=1, classification=False
    )
    shadow.score([0.0], 3.0, served=3.0)
    assert shadow.verdict()[0] is False and shadow.errors == [0.0, 1.0]
