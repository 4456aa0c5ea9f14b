"""The model server: durability, concurrency, hot swap, bad input and security.

The HTTP tests run a real server in a child process on a free 127.0.0.1 port; every loop is
bounded, and every server is stopped (or killed) by the test that started it.
"""

import itertools
import json
import re
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

import deployment_modes as dm
from deployment_modes import durable, serve
from deployment_modes.durable import DurableDeployment, Schema, StateError

TOKEN = "test-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def events():
    return [(x, y) for x, y in dm.scenarios.drifting_classification(seed=0)]


def reference(n_events, events, mode="online"):
    """The deployment an uninterrupted run has after the first ``n_events`` events."""
    deployment, _ = durable.default_deployment(mode)
    for x, y in events[:n_events]:
        deployment.learn_one({k: float(v) for k, v in x.items()}, y)
    return deployment


def same_model(a, b, probes) -> bool:
    """Equal class probabilities, exactly, on every probe event."""
    if isinstance(a, dm.BatchDeployment):
        return (
            a.model.predict_proba([list(x.values()) for x, _ in probes])
            == b.model.predict_proba([list(x.values()) for x, _ in probes])
        ).all()
    return all(a.predict_proba_one(x) == b.predict_proba_one(x) for x, _ in probes)


def crash(state: DurableDeployment) -> None:
    """Drop a state without its closing snapshot, as a kill -9 would (in-process)."""
    state.close(snapshot=False)


# -- in-process: the durable deployment ---------------------------------------------------------


class Torn:
    """A toy deployment whose update is two steps: a prediction must never see only one done."""

    model_version = 1
    log = []

    def __init__(self):
        self.a = self.b = 0

    def predict_one(self, x):
        return self.a - self.b

    def learn_one(self, x, y):
        self.a += 1
        time.sleep(0)  # let another thread in, in the middle of the update
        self.b += 1


def test_a_prediction_never_sees_a_half_updated_model(tmp_path):
    state = DurableDeployment(
        tmp_path, "online", deployment=Torn(), schema=Schema(("a",), "regression")
    )
    seen, stop = set(), threading.Event()

    def predict():
        while not stop.is_set():
            seen.add(state.predict_one({"a": 0.0})[0])

    readers = [threading.Thread(target=predict) for _ in range(2)]
    for r in readers:
        r.start()
    for _i in range(100):
        state.learn_one({"a": 0.0}, 1.0)
    stop.set()
    for r in readers:
        r.join()
    assert seen == {0} and state.deployment.a == state.deployment.b == 100
    state.close()


def test_replay_after_a_crash_equals_the_uninterrupted_run_with_a_hot_swap(tmp_path, events):
    state = DurableDeployment(tmp_path, "batch", snapshot_every=150)
    state.learn_many(events[:200])
    swapped = state.redeploy()
    for x, y in events[200:260]:
        state.learn_one(x, y)
    live = state.deployment
    crash(state)
    again = DurableDeployment(tmp_path)
    assert (
        again.mode == "batch" and again.n_seen == 260 and again.replayed == 61
    )  # a snapshot at 200, then the swap and 60 events
    assert again.model_version == swapped["model_version"] == 2
    assert same_model(again.deployment, live, events[:100])
    assert [e.kind for e in again.deployment.log] == ["train", "swap"]
    again.close()


def test_a_torn_last_record_is_dropped_but_a_corrupt_one_is_refused(tmp_path, events):
    state = DurableDeployment(tmp_path, "online")
    state.learn_many(events[:5])
    crash(state)
    wal = sorted(tmp_path.glob("wal-*.log"))[-1]
    wal.write_bytes(wal.read_bytes() + b'1234abcd {"seq":6,"kind":"le')  # a write cut by a crash
    again = DurableDeployment(tmp_path)
    assert again.n_seen == 5
    again.learn_one(*events[5])
    crash(again)
    wal = sorted(tmp_path.glob("wal-*.log"))[-1]
    lines = wal.read_bytes().splitlines(keepends=True)
    wal.write_bytes(b"deadbeef" + lines[0][8:] + b"".join(lines[1:]) + lines[0])
    with pytest.raises(StateError, match="corrupt"):
        DurableDeployment(tmp_path)


def test_a_snapshot_that_fails_its_checksum_is_not_loaded(tmp_path):
    DurableDeployment(tmp_path, "online").close()
    path = tmp_path / durable.SNAPSHOT
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StateError, match="checksum"):
        DurableDeployment(tmp_path)


def test_one_server_per_state_dir_and_its_mode_is_kept(tmp_path):
    state = DurableDeployment(tmp_path, "online")
    with pytest.raises(StateError, match="another server"):
        DurableDeployment(tmp_path)
    state.close()
    with pytest.raises(StateError, match="online deployment, not batch"):
        DurableDeployment(tmp_path, "batch")


def test_one_bad_event_rejects_the_whole_batch(tmp_path, events):
    state = DurableDeployment(tmp_path, "online")
    bad = list(events[:5])
    bad[3] = ({**bad[3][0], "x2": "high"}, bad[3][1])
    with pytest.raises(TypeError, match=r"events\[3\]\.x\['x2'\]"):
        state.learn_many(bad)
    with pytest.raises(ValueError, match="classes"):
        state.learn_one(events[0][0], 7)
    assert state.n_seen == 0 and state.seq == 0
    assert sum(f.stat().st_size for f in tmp_path.glob("wal-*.log")) == 0
    state.close()


def test_the_default_deployment_is_the_drifting_scenario_initial_training(events):
    deployment, schema = durable.default_deployment("online")
    by_hand = dm.OnlineDeployment(deployment._initial)
    by_hand.fit_initial(*dm.scenarios.drifting_classification(seed=0).initial)
    assert same_model(deployment, by_hand, events[:50])
    assert (schema.features, schema.task, schema.classes) == (
        ("x0", "x1", "x2", "x3"),
        "classification",
        (0, 1),
    )
    assert (
        schema.bounds
        == dm.FeatureBounds(dm.scenarios.drifting_classification(seed=0).initial[0]).to_dict()
    )


def test_an_abnormal_input_is_refused_changes_nothing_and_a_restart_keeps_the_bounds(
    tmp_path, events
):
    state = DurableDeployment(tmp_path, "online")
    state.learn_many(events[:20])
    x, y = events[20]
    before = (state.seq, state.n_seen, state.model_version, state.predict_one(x))
    wal = sorted(tmp_path.glob("wal-*.log"))[-1].read_bytes()
    with pytest.raises(ValueError, match=r"x0=1e\+200 is outside its bounds \[-?\d"):
        state.learn_one({**x, "x0": 1e200}, y)
    with pytest.raises(ValueError, match=r"events\[1\]\.x is abnormal: x2="):
        state.learn_many([events[21], ({**x, "x2": -1e6}, y), events[22]])  # nothing half-learned
    with pytest.raises(durable.InputOutOfBounds, match="x0"):
        state.predict_one({**x, "x0": 1000.0})
    assert (state.seq, state.n_seen, state.model_version, state.predict_one(x)) == before
    assert sorted(tmp_path.glob("wal-*.log"))[-1].read_bytes() == wal
    assert state.metrics()["inputs_rejected"] == 3 and state.metrics()["input_guard"] is True
    bounds = state.schema.bounds
    state.close()
    again = DurableDeployment(tmp_path)  # the bounds are in the snapshot
    assert again.schema.bounds == bounds and again.n_seen == 20
    with pytest.raises(durable.InputOutOfBounds, match="x0"):
        again.learn_one({**x, "x0": 1e200}, y)
    again.close()
    unguarded = DurableDeployment(
        tmp_path, input_guard=False
    )  # the guard off: the value is learned
    assert unguarded.learn_one({**x, "x0": 50.0}, y)["n_seen"] == 21
    assert unguarded.metrics()["input_guard"] is False
    unguarded.close()


def test_a_schema_saved_without_bounds_loads_without_them(tmp_path):
    import pickle

    schema = Schema(("a",), "regression")
    old = pickle.loads(pickle.dumps(schema))
    del old.__dict__["bounds"]  # as pickled before the field existed
    assert pickle.loads(pickle.dumps(old)).bounds is None
    assert old.event({"a": 1e200}, 1.0) == ({"a": 1e200}, 1.0)
    guarded = Schema.of([[0.0], [1.0]], [0.0, 1.0])
    assert pickle.loads(pickle.dumps(guarded)) == guarded
    with pytest.raises(durable.InputOutOfBounds):
        pickle.loads(pickle.dumps(guarded)).values({"x0": 3.5})


# -- over HTTP: a real server in a child process ------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve.start(tmp_path_factory.mktemp("online"), mode="online", token=TOKEN) as srv:
        yield srv


@pytest.mark.slow
def test_eight_clients_mixed_requests_lose_and_double_nothing(server, events):
    before = httpx.get(server.url + "/metrics").json()["events_seen"]
    acks, errors, versions = [[] for _ in range(8)], [], [[] for _ in range(8)]

    def client(k):
        mine = itertools.cycle(events[k::8])
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as c:
            for i in range(2000):
                x, y = next(mine)
                r = (
                    c.post("/learn", json={"x": x, "y": y})
                    if i % 2
                    else c.post("/predict", json={"x": x})
                )
                if r.status_code != 200:
                    errors.append(r.text)
                elif i % 2:
                    acks[k].append(r.json()["n_seen"])
                else:
                    versions[k].append(r.json()["model_version"])

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and not any(t.is_alive() for t in threads)
    counts = sorted(itertools.chain(*acks))
    after = httpx.get(server.url + "/metrics").json()
    # each acknowledged event was learned exactly once: the counts acknowledged are 1..N, no gap, no repeat
    assert (
        counts == list(range(before + 1, before + 8001)) and after["events_seen"] == before + 8000
    )
    assert all(v == sorted(v) for v in versions)  # no client ever saw the model go back


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(server, events):
    x, y = events[0]
    before = httpx.get(server.url + "/metrics").json()
    cases = [
        ("/learn", b"{not json", 400, "not valid JSON"),
        ("/learn", b"[1, 2]", 422, "JSON object"),
        ("/learn", json.dumps({"x": x}).encode(), 422, "y is missing"),
        (
            "/learn",
            json.dumps({"x": {**x, "x1": "big"}, "y": y}).encode(),
            422,
            "x['x1'] must be a number",
        ),
        (
            "/learn",
            json.dumps({"x": {k: v for k, v in x.items() if k != "x3"}, "y": y}).encode(),
            422,
            "missing ['x3']",
        ),
        ("/learn", json.dumps({"x": {**x, "x9": 1.0}, "y": y}).encode(), 422, "extra ['x9']"),
        (
            "/learn",
            json.dumps({"x": {**x, "x0": float("nan")}, "y": y}).encode(),
            422,
            "must be finite",
        ),
        (
            "/learn",
            json.dumps({"x": {**x, "x0": 12345.5}, "y": y}).replace("12345.5", "1e999").encode(),
            422,
            "finite",
        ),
        (
            "/learn",
            json.dumps({"x": {**x, "x0": float("inf")}, "y": y}).encode(),
            422,
            "must be finite",
        ),
        ("/learn", json.dumps({"x": x, "y": "yes"}).encode(), 422, "classes [0, 1]"),
        ("/learn", json.dumps({"x": x, "y": y, "z": 1}).encode(), 422, "unknown fields ['z']"),
        (
            "/learn_many",
            json.dumps({"events": [{"x": x, "y": y}, {"x": x, "y": 3}]}).encode(),
            422,
            "events[1].y",
        ),
        ("/learn_many", json.dumps({"events": {"x": x}}).encode(), 422, "events"),
        ("/learn_many", json.dumps({"events": []}).encode(), 422, "at least one"),
        (
            "/learn_many",
            b'{"events": [' + b",".join([json.dumps({"x": x, "y": y}).encode()] * 50_000) + b"]}",
            413,
            "limit",
        ),
        (
            "/predict",
            json.dumps({"x": {**x, "x0": None}}).encode(),
            422,
            "x['x0'] must be a number",
        ),
        ("/predict", b"{}", 422, "x is missing"),
    ]
    with httpx.Client(base_url=server.url, headers=AUTH) as c:
        for path, body, status, message in cases:
            r = c.post(path, content=body, headers={"content-type": "application/json"})
            assert r.status_code == status and message in r.json()["detail"], (
                path,
                body[:80],
                r.text,
            )
    after = httpx.get(server.url + "/metrics").json()
    assert (after["events_seen"], after["log_seq"]) == (before["events_seen"], before["log_seq"])


def test_an_abnormal_input_gets_422_and_the_model_and_the_log_stay_as_they_were(server, events):
    x, y = events[0]
    with httpx.Client(base_url=server.url, headers=AUTH) as c:
        c.post("/learn", json={"x": x, "y": y}).raise_for_status()
        before, answer = c.get("/metrics").json(), c.post("/predict", json={"x": x}).json()
        r = c.post("/learn", json={"x": {**x, "x0": 1e200}, "y": y})
        assert r.status_code == 422 and "x0=1e+200 is outside its bounds [" in r.json()["detail"]
        many = c.post(
            "/learn_many", json={"events": [{"x": x, "y": y}, {"x": {**x, "x3": -1e9}, "y": y}]}
        )
        assert many.status_code == 422 and "events[1].x is abnormal: x3=" in many.json()["detail"]
        assert c.post("/predict", json={"x": {**x, "x1": 1e200}}).status_code == 422
        after = c.get("/metrics").json()
        assert (after["events_seen"], after["log_seq"], after["model_version"]) == (
            before["events_seen"],
            before["log_seq"],
            before["model_version"],
        )
        assert after["inputs_rejected"] == before["inputs_rejected"] + 3
        assert c.post("/predict", json={"x": x}).json() == answer


@pytest.mark.slow
def test_no_input_guard_turns_the_guardrail_off(tmp_path, events):
    x, y = events[0]
    with serve.start(tmp_path, mode="online", input_guard=False) as srv:
        r = httpx.post(srv.url + "/learn", json={"x": {**x, "x0": 1000.0}, "y": y})
        metrics = httpx.get(srv.url + "/metrics").json()
    assert (
        r.status_code == 200 and metrics["input_guard"] is False and metrics["inputs_rejected"] == 0
    )


def test_the_token_guards_learning_but_not_predicting(server, events):
    x, y = events[0]
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/learn", json={"x": x, "y": y}).status_code == 401
        assert c.post("/learn_many", json={"events": [{"x": x, "y": y}]}).status_code == 401
        assert c.post("/deploy").status_code == 401
        wrong = c.post(
            "/learn", json={"x": x, "y": y}, headers={"Authorization": "Bearer nope-nope-nope"}
        )
        assert wrong.status_code == 401 and "wrong" in wrong.json()["detail"]
        assert c.post("/predict", json={"x": x}).status_code == 200
        assert c.post("/learn", json={"x": x, "y": y}, headers=AUTH).status_code == 200
        online = c.post("/deploy", headers=AUTH)
        assert online.status_code == 409 and "batch mode" in online.json()["detail"]


def test_a_public_host_needs_a_token(tmp_path, capsys):
    with pytest.raises(ValueError, match="token is required"):
        serve.start(tmp_path, host="0.0.0.0")
    with pytest.raises(SystemExit) as exit_:
        serve.main(["--state-dir", str(tmp_path), "--host", "0.0.0.0", "--port", "0"])
    assert exit_.value.code == 2 and "token is required" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 8"):
        serve.check_security("127.0.0.1", "short")
    assert not (tmp_path / durable.SNAPSHOT).exists()


def test_the_server_process_exits_0_after_its_last_snapshot_and_2_when_refused(tmp_path, events):
    # the process ends without tearing the interpreter down: the exit codes and the files are
    # those of a normal exit
    srv = serve.start(tmp_path, mode="online", snapshot_every=10**6)
    pairs = [{"x": x, "y": y} for x, y in events[:30]]
    httpx.post(srv.url + "/learn_many", json={"events": pairs}).raise_for_status()
    assert srv.stop() == 0
    header, state = durable.load_snapshot(tmp_path)
    assert header["n_seen"] == state["n_seen"] == 30  # the last snapshot holds every event
    with pytest.raises(RuntimeError, match=r"exit code 2\):\nerror: the state dir holds the"):
        serve.start(tmp_path, mode="batch")
    refused = serve.start(tmp_path, mode="batch", wait=False)  # the same, said by wait_ready
    with pytest.raises(RuntimeError, match=r"exit code 2\):\nerror: the state dir holds the"):
        refused.wait_ready()
    assert not refused.running


def test_servers_started_without_waiting_start_together_and_wait_ready_waits(tmp_path, events):
    # the chapter starts its online and its batch server at once: each loads its libraries in
    # its own process while the other does, and wait_ready returns once each answers
    servers = [serve.start(tmp_path / m, mode=m, wait=False) for m in ("online", "batch")]
    try:
        with pytest.raises(RuntimeError, match=r"still starting .* call wait_ready\(\) first"):
            servers[0].url  # noqa: B018 (the property raises)
        assert "pid=" in repr(servers[0])
        assert [s.wait_ready() for s in servers] == servers
        assert [httpx.get(s.url + "/health").json()["mode"] for s in servers] == [
            "online",
            "batch",
        ]
        assert servers[1].wait_ready(timeout=1e-9) is servers[1]  # ready already: at once
        pair = {"x": events[0][0], "y": events[0][1]}
        assert httpx.post(servers[0].url + "/learn", json=pair).json()["n_seen"] == 1
    finally:
        assert [s.stop() for s in servers] == [0, 0]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"wait": "no"}, TypeError, "wait must be True or False, got str 'no'"),
        ({"wait": None}, TypeError, "wait must be True or False"),
        ({"timeout": "5"}, TypeError, "timeout must be a number of seconds, got str '5'"),
        ({"timeout": True}, TypeError, "timeout must be a number of seconds"),
        ({"timeout": 0}, ValueError, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": float("nan")}, ValueError, "timeout must be a positive number of seconds"),
    ],
)
def test_start_names_a_bad_wait_or_timeout_and_starts_nothing(tmp_path, options, error, message):
    with pytest.raises(error, match=re.escape(message)):
        serve.start(tmp_path / "state", **options)
    assert not (tmp_path / "state").exists()


def test_wait_ready_names_a_bad_timeout_and_a_server_too_slow_is_killed(tmp_path):
    server = serve.start(tmp_path, mode="online", wait=False)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got -1"):
        server.wait_ready(timeout=-1)
    assert server.running  # a bad argument changes nothing
    with pytest.raises(RuntimeError, match="did not start|did not answer /health within"):
        server.wait_ready(timeout=1e-3)  # no Python process imports river in a millisecond
    assert not server.running


def _serve_with_importtime(state_dir, mode: str, imports_path, events) -> str:
    """Run a server with ``-X importtime``: learn, deploy (batch), predict, stop; its import log."""
    command = [sys.executable, "-X", "importtime", "-m", "deployment_modes.serve"]
    command += ["--state-dir", str(state_dir), "--mode", mode, "--port", "0"]
    with open(imports_path, "w") as imports:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=imports, text=True)
    try:
        url = process.stdout.readline().split(" on ")[1].split()[0]
        for _ in range(500):  # the socket is bound before uvicorn listens on it
            try:
                httpx.get(url + "/health").raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.02)
        pairs = [{"x": x, "y": y} for x, y in events[:50]]
        n_seen = httpx.get(url + "/health").json()["n_seen"]
        answer = httpx.post(url + "/learn_many", json={"events": pairs}).json()
        assert answer["n_seen"] == n_seen + 50
        if mode == "batch":
            assert httpx.post(url + "/deploy", timeout=60).json()["rows"] > 0
        answer = httpx.post(url + "/predict", json={"x": events[60][0]}).json()
        assert answer["y_pred"] in (0, 1)
    finally:
        process.terminate()
        assert process.wait(20) == 0
        process.stdout.close()
    return imports_path.read_text()


def _loaded(imports: str, package: str) -> bool:
    """Whether an ``-X importtime`` log shows a module of ``package`` imported.

    A refused import (None in ``sys.modules``) is listed too, under its own name: a module of
    the package says it was loaded.
    """
    names = [line.rsplit("|", 1)[-1].strip() for line in imports.splitlines()]
    return any(n.startswith(package + ".") for n in names)


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_the_server_process_loads_no_sqlalchemy_and_an_online_one_no_scikit_learn(
    tmp_path, events, mode
):
    # river imports SQLAlchemy only to offer iter_sql, and scikit-learn only to offer
    # iter_sklearn_dataset; the server's __main__ keeps both out: an online server (river) loads
    # no scikit-learn, from an empty state dir or from its snapshot and log, a batch one does
    for run in (1, 2) if mode == "online" else (1,):
        loaded = _serve_with_importtime(tmp_path / "state", mode, tmp_path / "imports.txt", events)
        assert "river.stream.iter_sql" in loaded  # tried: a refused import is listed too,
        assert not _loaded(loaded, "sqlalchemy")  # but none of its modules is loaded
        assert _loaded(loaded, "river") and _loaded(loaded, "fastapi")
        assert _loaded(loaded, "sklearn") == (mode == "batch"), (mode, run)


@pytest.mark.slow
def test_kill_9_during_a_learning_stream_loses_no_acknowledged_event(tmp_path, events):
    srv = serve.start(tmp_path, mode="online", snapshot_every=100)
    sent = acked = 0

    def stream():  # learns until the server dies (at most every event once): no clock in the test
        nonlocal sent, acked
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            for i in range(len(events)):
                size = 1 if i % 2 else 7
                batch = events[sent : sent + size]
                if not batch:
                    return
                sent += len(batch)
                try:
                    if size == 1:
                        r = c.post("/learn", json={"x": batch[0][0], "y": batch[0][1]})
                    else:
                        r = c.post(
                            "/learn_many", json={"events": [{"x": x, "y": y} for x, y in batch]}
                        )
                except httpx.TransportError:
                    return
                acked = r.json()["n_seen"]

    client = threading.Thread(target=stream)
    client.start()
    while acked < 450 and client.is_alive():  # bounded: the client stops after the last event
        time.sleep(0.005)
    srv.kill()  # SIGKILL: no snapshot, no goodbye
    client.join(timeout=120)
    assert 450 <= acked <= sent < len(events) and not client.is_alive()
    restarted = serve.start(tmp_path)
    try:
        n = httpx.get(restarted.url + "/metrics").json()["events_seen"]
        assert acked <= n <= sent  # every acknowledged event is there; nothing was invented
        rest = [{"x": x, "y": y} for x, y in events[n:1000]]
        assert (
            httpx.post(restarted.url + "/learn_many", json={"events": rest}).json()["n_seen"]
            == 1000
        )
    finally:
        restarted.stop()
    _, state = durable.load_snapshot(tmp_path)
    assert same_model(state["deployment"], reference(1000, events), events[:200])


@pytest.mark.slow
def test_a_batch_retrain_is_swapped_in_while_predictions_are_answered(tmp_path, events):
    sc = dm.scenarios.drifting_classification(seed=0)
    durable.init_state(
        tmp_path,
        dm.BatchDeployment(
            GradientBoostingClassifier(n_estimators=40, random_state=0), window=1500
        ),
        *sc.initial,
        mode="batch",
    )
    with serve.start(tmp_path) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        c.post("/learn_many", json={"events": [{"x": x, "y": y} for x, y in events[:2500]]})
        done, answers = threading.Event(), []

        def deploy():
            answers.append(("deploy", c.post("/deploy").json()))
            done.set()

        threading.Thread(target=deploy).start()
        with httpx.Client(base_url=srv.url, timeout=30) as p:
            for i in itertools.count():
                r = p.post("/predict", json={"x": events[3000 + i % 500][0]})
                answers.append((r.status_code, r.json()["model_version"], done.is_set()))
                if done.is_set() or i > 20_000:
                    break
        health = c.get("/health").json()
        probe = serve.Probe(srv.url, events[3000][0]).start()
        time.sleep(0.1)
        srv = serve.naive_redeploy(srv, tmp_path)  # stop, retrain, start: requests fail meanwhile
        time.sleep(0.1)
        naive = serve.downtime(probe.stop())
        srv.stop()
    assert naive["failed"] >= 1 and naive["seconds"] > 0
    during = [a for a in answers[:-1] if a[0] == 200 and not a[2]]
    deployed = [a[1] for a in answers if a[0] == "deploy"][0]
    assert all(a[0] in (200, "deploy") for a in answers)
    assert len(during) >= 3 and {a[1] for a in during} <= {1, 2}  # answered during the retrain
    assert (
        deployed["model_version"] == 2
        and deployed["fitted_on_events"] == 2500
        and deployed["rows"] == 1500
    )
    assert health["model_version"] == 2 and not health["retraining"]


def test_the_online_server_dips_at_the_drift_and_recovers_while_serving(tmp_path, events):
    # the chapter's first experiment, in-process: the same scenario, seed, deployment and batches of 50
    state = DurableDeployment(tmp_path, "online")
    accuracy = []
    for i in range(0, len(events), 50):
        accuracy.append(
            state.learn_many(events[i : i + 50]) and state.metrics()["rolling_metric"]["value"]
        )
    drift = 2000 // 50
    before, low, end = min(accuracy[5:drift]), min(accuracy[drift:]), accuracy[-1]
    assert low < before - 0.1 and end > low + 0.15 and state.n_seen == 4000
    state.close()


def test_a_page_of_another_site_cannot_make_a_browser_teach_the_model(server, events):
    x, y = events[0]
    port = server.url.rsplit(":", 1)[1]
    before = httpx.get(server.url + "/metrics").json()["events_seen"]
    body = json.dumps({"x": x, "y": y})
    with httpx.Client(base_url=server.url, headers=AUTH) as c:
        attacks = [  # what a cross-site form or fetch, or a rebound DNS name, would send
            (c.post("/learn", content=body, headers={"content-type": "text/plain"}), 415),
            (
                c.post(
                    "/learn",
                    content="x=1",
                    headers={"content-type": "application/x-www-form-urlencoded"},
                ),
                415,
            ),
            (c.post("/learn", content=body), 415),
            (
                c.post("/learn", json={"x": x, "y": y}, headers={"origin": "http://evil.example"}),
                403,
            ),
            (c.post("/deploy", headers={"origin": "null"}), 403),
            (
                c.post("/learn", json={"x": x, "y": y}, headers={"host": f"evil.example:{port}"}),
                421,
            ),
            (c.get("/metrics", headers={"host": f"rebound.evil.example:{port}"}), 421),
        ]
        assert [r.status_code for r, _ in attacks] == [status for _, status in attacks], [
            r.text for r, _ in attacks
        ]
        same_origin = c.post("/learn", json={"x": x, "y": y}, headers={"origin": server.url})
        by_name = c.post("/predict", json={"x": x}, headers={"host": f"localhost:{port}"})
    assert same_origin.status_code == 200 and by_name.status_code == 200
    assert httpx.get(server.url + "/metrics").json()["events_seen"] == before + 1


def test_bodies_have_limits_unknown_fields_are_refused_and_a_413_closes_the_connection(
    server, events
):
    x, y = events[0]
    with httpx.Client(base_url=server.url, headers=AUTH) as c:
        big = c.post("/predict", json={"x": x, "padding": "p" * 100_000})
        assert big.status_code == 413 and big.headers["connection"] == "close"
        assert (
            c.post("/predict", json={"x": x, "z": 1}).json()["detail"]
            == "the body has unknown fields ['z']"
        )
        many = c.post("/learn_many", json={"events": [{"x": x, "y": y}], "priority": "high"})
        assert many.status_code == 422 and "unknown fields ['priority']" in many.json()["detail"]
        assert type(c.post("/predict", json={"x": x}).json()["y_pred"]) is int


def test_with_a_token_on_a_public_host_metrics_and_docs_need_it(tmp_path):
    from starlette.testclient import TestClient

    state = DurableDeployment(tmp_path, "online")
    with TestClient(serve.create_app(state, token=TOKEN, host="10.1.2.3")) as c:
        for path in ("/metrics", "/docs", "/openapi.json"):
            assert (
                c.get(path).status_code == 401 and c.get(path, headers=AUTH).status_code == 200
            ), path
        assert c.get("/health").status_code == 200


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--token", ""], {}, "blank"),
        (["--token", "   "], {}, "blank"),
        ([], {serve.TOKEN_ENV: ""}, "blank"),
        (["--token-file", "EMPTY"], {}, "blank"),
        (["--token-file", "MISSING"], {}, "cannot read the token file"),
        (["--token", "tok-tok-tok-1", "--token-file", "GOOD"], {}, "one way"),
        (
            ["--token-file", "GOOD"],
            {},
            "must be a folder",
        ),  # the token was accepted: the state dir is refused next
    ],
)
def test_the_token_comes_from_a_file_or_the_environment_and_blank_is_refused(
    tmp_path, capsys, monkeypatch, args, env, message
):
    (tmp_path / "EMPTY").write_text("\n")
    (tmp_path / "GOOD").write_text("a-good-token-from-a-file\n")
    (tmp_path / "a-file").write_text("")
    monkeypatch.delenv(serve.TOKEN_ENV, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = [str(tmp_path / a) if a in ("EMPTY", "MISSING", "GOOD") else a for a in args]
    with pytest.raises(SystemExit) as exit_:
        serve.main(
            ["--state-dir", str(tmp_path / "a-file"), "--host", "0.0.0.0", "--port", "0", *args]
        )
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and message in err, err


TRICKY_VALUES = [
    (1, [1.0, 0.5]),  # an int is taken as a float
    (True, TypeError),  # a bool is not a number here
    ("0.5", TypeError),
    (None, TypeError),
    ([0.5], TypeError),
    (float("nan"), ValueError),
    (float("inf"), ValueError),
    (10**400, ValueError),  # an int too large for a float
    (np.float64(0.25), [0.25, 0.5]),  # a numpy float, as a plain float
]


@pytest.mark.parametrize("value, expected", TRICKY_VALUES)
def test_the_schema_accepts_and_refuses_the_same_values_alone_and_in_a_batch(
    tmp_path, value, expected
):
    schema = durable.Schema(("a", "b"), "classification", (0, 1))
    x = {"a": value, "b": 0.5}
    if isinstance(expected, list):
        assert schema.values(x) == expected and all(type(v) is float for v in schema.values(x))
    else:
        with pytest.raises(expected, match=r"x\['a'\]|too large"):
            schema.values(x)
        state = DurableDeployment(tmp_path, "online")
        events = [({"x0": 0.1, "x1": 0.2, "x2": 0.3, "x3": 0.4}, 1)] * 3
        events[1] = ({**events[0][0], "x1": value}, 1)
        with pytest.raises(expected, match=r"events\[1\]\.x"):
            state.learn_many(events)
        assert state.n_seen == 0
        state.close()


@pytest.mark.parametrize("label", [1.0, True, 2, "1", [1], None, float("nan")])
def test_a_label_must_be_one_of_the_classes_as_spelled(label):
    schema = durable.Schema(("a",), "classification", (0, 1))
    assert schema.label(1) == 1 and type(schema.label(1)) is int
    with pytest.raises(ValueError, match=r"events\[4\]\.y must be one of the classes"):
        schema.label(label, "events[4].")
