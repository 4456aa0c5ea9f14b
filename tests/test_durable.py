"""The write-ahead log and the snapshots on their own, and what a durable state dir survives.

Every defect found by attacking the server has a test here: a full disk during a log write (on a
real small tmpfs in a private mount namespace when the machine allows it, and with an injected
OSError always), a snapshot that fails, a log without its snapshot, garbage taken for a torn
tail, starts refused with a traceback, a ``lock`` symlink followed, log files deleted unread.
"""

import copy
import errno
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import drift
from sklearn.linear_model import LogisticRegression

import deployment_modes as dm
from deployment_modes import durable, serve
from deployment_modes.durable import DurableDeployment, StateError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def events():
    return [(x, y) for x, y in dm.scenarios.drifting_classification(seed=0)]


def crash(state: DurableDeployment) -> None:
    """Drop a state without its closing snapshot, as a kill -9 would (in-process)."""
    state.close(snapshot=False)


def same_model(a, b, probes) -> bool:
    if isinstance(a, dm.BatchDeployment):
        rows = [list(x.values()) for x, _ in probes]
        return (a.model.predict_proba(rows) == b.model.predict_proba(rows)).all()
    return all(a.predict_proba_one(x) == b.predict_proba_one(x) for x, _ in probes)


def files(folder: Path) -> dict:
    return {
        p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != "lock"
    }


# -- the log and the snapshot on their own --------------------------------------------------------


def test_log_records_round_trip_and_a_torn_tail_is_skipped(tmp_path):
    log = durable.LogWriter(tmp_path, 1)
    log.append(
        b"".join(durable.encode({"seq": i, "kind": "learn", "events": [[0.5, 1]]}) for i in (1, 2))
    )
    log.append(
        durable.encode({"seq": 3, "kind": "learn", "events": [[0.5, 1]]})[:20]
    )  # cut by a crash
    log.close()
    assert [r["seq"] for r in durable.read_log(tmp_path)] == [1, 2]


@pytest.mark.parametrize(
    "damage, line",
    [
        (
            lambda lines: lines[:1] + [b"deadbeef" + lines[1][8:]] + lines[2:],
            2,
        ),  # a complete line fails its CRC
        (
            lambda lines: lines + [b"0123abcd this is not a record\n"],
            4,
        ),  # a complete garbage last line
        (lambda lines: lines + [b"garbage with no end of line"], 4),  # not the start of a record
        (lambda lines: [b"\x00" * 40], 1),  # a log with no valid record
        (lambda lines: lines[:1] + lines[2:], 2),  # a record missing
    ],
)
def test_a_corrupt_log_is_refused_naming_file_and_line_and_nothing_is_deleted(
    tmp_path, events, damage, line
):
    state = DurableDeployment(tmp_path, "online")
    for x, y in events[:3]:
        state.learn_one(x, y)
    crash(state)
    wal = sorted(tmp_path.glob("wal-0*.log"))[-1]
    wal.write_bytes(b"".join(damage(wal.read_bytes().splitlines(keepends=True))))
    before = files(tmp_path)
    with pytest.raises(StateError, match=rf"{wal.name} line {line}"):
        DurableDeployment(tmp_path)
    assert files(tmp_path) == before


def test_a_failed_snapshot_write_leaves_the_old_one_and_no_temporary_file(tmp_path, monkeypatch):
    durable.storage.write_snapshot(tmp_path, {"a": 1}, seq=1)
    real_fsync = os.fsync

    def failing_fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        durable.storage.write_snapshot(tmp_path, {"a": 2}, seq=2)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert durable.load_snapshot(tmp_path) == (durable.load_snapshot(tmp_path)[0], {"a": 1})
    assert not (tmp_path / ".snapshot.tmp").exists()


def test_state_files_are_private_to_their_owner(tmp_path, events):
    state = DurableDeployment(tmp_path / "state", "online")
    state.learn_one(*events[0])
    crash(state)
    for path in (tmp_path / "state").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path.name


# -- a full disk ------------------------------------------------------------------------------


class FullDisk:
    """``os.write`` that writes part of what it is given, then fails as a full disk does."""

    def __init__(self, failures: int, delay: float = 0.0):
        self.failures, self.delay, self.real = failures, delay, os.write

    def __call__(self, fd, data):
        if self.failures <= 0:
            return self.real(fd, data)
        threading.Event().wait(self.delay)  # let other requests queue up behind this write
        self.failures -= 1
        if len(data) > 1:
            self.real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_acknowledges_nothing_it_did_not_log_injected(tmp_path, events, monkeypatch):
    state = DurableDeployment(tmp_path, "online", snapshot_every=10**6)
    state.learn_many(events[:5])
    wal = sorted(tmp_path.glob("wal-0*.log"))[-1]
    size = wal.stat().st_size
    monkeypatch.setattr(os, "write", FullDisk(failures=2, delay=0.05))
    outcomes = [None] * 8

    def client(k):
        try:
            outcomes[k] = state.learn_many(events[10 + 3 * k : 13 + 3 * k])
        except durable.LogWriteError as error:
            outcomes[k] = error

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [o for o in outcomes if isinstance(o, durable.LogWriteError)]
    acked = [o for o in outcomes if isinstance(o, dict)]
    assert len(failed) + len(acked) == 8 and failed and all(e.disk_full for e in failed)
    assert state.n_seen == 5 + 3 * len(acked) == max([5] + [a["n_seen"] for a in acked])
    assert sorted(a["seq"] for a in acked) == list(
        range(2, 2 + len(acked))
    )  # no sequence number reused
    monkeypatch.undo()
    if not acked:
        assert wal.stat().st_size == size  # the half-written bytes were cut off again
    assert state.learn_one(*events[0])["seq"] == 2 + len(acked)
    live = state.deployment
    crash(state)
    again = DurableDeployment(tmp_path)
    assert again.n_seen == 6 + 3 * len(acked) and same_model(again.deployment, live, events[:50])
    again.close()


class SlowOrFailingFsync:
    """``os.fsync`` of the log that waits ``delay`` seconds, then fails with ``error`` (an errno) or flushes."""

    def __init__(self, folder: Path, delay: float = 0.0, error: int | None = None):
        self.folder, self.delay, self.error, self.real = folder, delay, error, os.fsync
        self.returned_at = []

    def __call__(self, fd):
        if not os.readlink(f"/proc/self/fd/{fd}").startswith(str(self.folder / "wal-")):
            return self.real(fd)  # the snapshot's and the folder's
        threading.Event().wait(self.delay)
        self.returned_at.append(time.monotonic())
        if self.error is not None:
            self.error, error = None, self.error  # once: cutting the log back flushes again
            raise OSError(error, os.strerror(error))
        return self.real(fd)


@pytest.mark.parametrize("size", [1, 500])  # flushed before learning, or while learning
def test_a_flush_that_fails_acknowledges_nothing_and_a_restart_recovers_the_acknowledged(
    tmp_path, events, monkeypatch, size
):
    state = DurableDeployment(tmp_path, "online", snapshot_every=10**6)
    state.learn_many(events[:100])
    monkeypatch.setattr(os, "fsync", SlowOrFailingFsync(tmp_path, error=errno.EIO))
    with pytest.raises(durable.LogWriteError):
        state.learn_many(events[100 : 100 + size])
    monkeypatch.undo()
    if size < state.overlap_events:  # nothing was learned: the deployment goes on
        assert state.n_seen == 100 and state.learn_many(events[100:101])["n_seen"] == 101
        state.close()
        assert DurableDeployment(tmp_path).n_seen == 101
        return
    # learned but not on disk: everything is refused until a restart, and no snapshot keeps it
    with pytest.raises(StateError, match="restart"):
        state.predict_one(events[0][0])
    with pytest.raises(StateError, match="restart"):
        state.learn_many(events[100:101])
    state.close()
    again = DurableDeployment(tmp_path)
    reference = DurableDeployment(tmp_path / "reference", "online")
    reference.learn_many(events[:100])
    assert again.n_seen == 100 and same_model(again.deployment, reference.deployment, events[:50])
    assert again.learn_many(events[100:600])["n_seen"] == 600
    again.close(), reference.close()


def test_a_prediction_made_while_a_group_is_learned_waits_for_its_flush(
    tmp_path, events, monkeypatch
):
    state = DurableDeployment(tmp_path, "online", snapshot_every=10**6)
    fsync = SlowOrFailingFsync(tmp_path, delay=0.5)
    monkeypatch.setattr(os, "fsync", fsync)
    learner = threading.Thread(target=state.learn_many, args=(events[:1000],))
    learner.start()
    while state.n_seen == 0:  # the group is being learned, its flush still running
        time.sleep(0.001)
    y_pred, version = state.predict_one(events[0][0])
    answered_at = time.monotonic()
    metrics = state.metrics()
    learner.join()
    assert version > 1 and fsync.returned_at and answered_at >= fsync.returned_at[0]
    assert metrics["events_seen"] >= state.n_seen - 1000 and state.durable_n_seen == 1000
    state.close()


NAMESPACE_SCRIPT = textwrap.dedent("""
    import errno, json, os, subprocess, sys, threading
    from pathlib import Path
    import deployment_modes as dm
    from deployment_modes.durable import DurableDeployment

    mount, out = Path(sys.argv[1]), {}
    events = [(x, y) for x, y in dm.scenarios.drifting_classification(seed=0)]
    fillers = []

    def fill():  # write 4 KB files until the disk is full
        while True:
            path = mount / f"fill-{len(fillers)}"
            try:
                path.write_bytes(b"x" * 4096)
            except OSError:
                path.unlink(missing_ok=True)
                return
            fillers.append(path)

    def learn(state, batch):
        try:
            return state.learn_many(batch)
        except Exception as error:
            return {"error": type(error).__name__, "disk_full": getattr(error, "disk_full", None)}

    pid = os.fork()
    if pid == 0:  # the server: fill the disk, learn, then die without a goodbye
        state = DurableDeployment(mount / "state", "batch", snapshot_every=20)
        learn(state, events[:5])
        fill()
        outcomes = [None] * 8
        def client(k):
            outcomes[k] = [learn(state, events[5 + 10 * (5 * k + i):15 + 10 * (5 * k + i)]) for i in range(5)]
        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        [t.start() for t in threads]; [t.join() for t in threads]
        out["full"] = [o for per in outcomes for o in per]
        out["tmp_left_when_full"] = (mount / "state" / ".snapshot.tmp").exists()
        for path in fillers[:4]:  # room for log lines, not for a snapshot
            path.unlink()
        out["room"] = [learn(state, events[500 + i:501 + i]) for i in range(40)]
        out["snapshot_error"] = state.metrics().get("snapshot_error", "no such key")
        out["tmp_left"] = (mount / "state" / ".snapshot.tmp").exists()
        subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
        state.snapshot_retry_seconds = 0.0
        out["after"] = [learn(state, events[600 + i:601 + i]) for i in range(25)]
        out["snapshot_error_after"] = state.metrics().get("snapshot_error", "no such key")
        out["n_seen"] = state.n_seen
        out["probs"] = state.deployment.model.predict_proba([list(x.values()) for x, _ in events[:50]]).tolist()
        Path(sys.argv[2]).write_text(json.dumps(out))
        os._exit(0)
    os.waitpid(pid, 0)
    out = json.loads(Path(sys.argv[2]).read_text())
    again = DurableDeployment(mount / "state")
    out["replayed_n_seen"] = again.n_seen
    out["same_model"] = again.deployment.model.predict_proba(
        [list(x.values()) for x, _ in events[:50]]).tolist() == out["probs"]
    again.close()
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    try:
        DurableDeployment(mount / "state")
        out["read_only"] = "started"
    except Exception as error:
        out["read_only"] = f"{type(error).__name__}: {error}"
    out["cli"] = subprocess.run([sys.executable, "-m", "deployment_modes.serve", "--state-dir",
                                 str(mount / "state"), "--port", "0"], capture_output=True, text=True).stderr
    Path(sys.argv[2]).write_text(json.dumps(out))
""")


def namespace_available() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(
    not namespace_available(), reason="needs root and unshare -m to mount a small tmpfs"
)
def test_a_real_full_disk_loses_and_invents_nothing(tmp_path):
    """A 400 KB tmpfs filled up while eight clients learn, given room for the log only, then more."""
    mount, result, script = tmp_path / "disk", tmp_path / "result.json", tmp_path / "full_disk.py"
    mount.mkdir()
    script.write_text(NAMESPACE_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = f"mount -t tmpfs -o size=400k tmpfs {mount} && exec {sys.executable} {script} {mount} {result}"
    run = subprocess.run(
        ["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(result.read_text())
    full, room, after = out["full"], out["room"], out["after"]
    assert all(
        ("n_seen" in o) != ("error" in o) for o in full + room + after
    )  # each got its own outcome
    assert any(o.get("error") == "LogWriteError" and o["disk_full"] for o in full)
    assert not out["tmp_left_when_full"] and not out["tmp_left"]
    assert (
        all("n_seen" in o for o in room) and out["snapshot_error"]
    )  # logged although the snapshot failed
    assert all("n_seen" in o for o in after) and out["snapshot_error_after"] is None
    acked = 5 + 10 * sum("n_seen" in o for o in full) + len(room) + len(after)
    assert out["n_seen"] == out["replayed_n_seen"] == acked and out["same_model"]
    assert out["read_only"].startswith("StateError") and "state" in out["read_only"]
    assert (
        out["cli"].startswith("error: ")
        and "Traceback" not in out["cli"]
        and str(mount) in out["cli"]
    )


# -- a snapshot that fails ---------------------------------------------------------------------


class Moody:
    """A toy deployment that cannot be pickled while ``moody`` is set."""

    model_version = 1
    moody = False

    def __init__(self):
        self.total = 0.0

    def predict_one(self, x):
        return self.total

    def learn_one(self, x, y):
        self.total += y

    def __getstate__(self):
        if Moody.moody:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.__dict__


def test_a_failed_snapshot_does_not_fail_the_commits_and_is_retried(tmp_path):
    state = DurableDeployment(
        tmp_path,
        "online",
        deployment=Moody(),
        schema=durable.Schema(("a",), "regression"),
        snapshot_every=3,
    )
    state.snapshot_retry_seconds = 0.0
    Moody.moody = True
    try:
        results = [
            state.learn_one({"a": 0.0}, 1.0) for _ in range(5)
        ]  # a snapshot is due at 3, 4 and 5
    finally:
        Moody.moody = False
    assert [r["n_seen"] for r in results] == [1, 2, 3, 4, 5] and "No space" in state.metrics().get(
        "snapshot_error", "no such key"
    )
    assert not (tmp_path / ".snapshot.tmp").exists() and state.last_snapshot["n_seen"] == 0
    state.learn_one({"a": 0.0}, 1.0)
    assert state.metrics()["snapshot_error"] is None and state.last_snapshot["n_seen"] == 6
    crash(state)
    again = DurableDeployment(tmp_path)
    assert again.n_seen == 6 and again.deployment.total == 6.0
    again.close()


# -- starts that must be refused, with a message -------------------------------------------------


def test_a_log_without_its_snapshot_is_refused_and_kept(tmp_path, events):
    state = DurableDeployment(tmp_path, "online", snapshot_every=10**6)
    state.learn_many(events[:300])
    crash(state)
    (tmp_path / durable.SNAPSHOT).unlink()
    before = files(tmp_path)
    with pytest.raises(StateError, match="no snapshot.pkl"):
        DurableDeployment(tmp_path, "online")
    assert files(tmp_path) == before


def test_log_files_that_were_never_read_are_not_deleted(tmp_path, events):
    state = DurableDeployment(tmp_path, "online", snapshot_every=2)
    (tmp_path / "wal-notes.log").write_text("keep me\n")
    state.learn_many(events[:5])  # a snapshot, which deletes the segments it covers
    state.close()
    assert (tmp_path / "wal-notes.log").read_text() == "keep me\n"
    again = DurableDeployment(tmp_path)
    assert again.n_seen == 5
    again.close()
    assert (tmp_path / "wal-notes.log").exists()


def test_a_lock_symlink_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "lock").symlink_to(victim)
    with pytest.raises(StateError, match="symbolic link"):
        DurableDeployment(tmp_path / "state", "online")
    assert victim.read_text() == "precious"


def snapshot_with_a_broken_header(folder: Path) -> None:
    DurableDeployment(folder, "online").close()
    data = (folder / durable.SNAPSHOT).read_bytes()
    (folder / durable.SNAPSHOT).write_bytes(data.replace(b'{"seq"', b"{seq", 1))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.parent / ("s" * 300), "too long"),
        (lambda p: (p.parent / "a-file").write_text("") or p.parent / "a-file" / "state", "a-file"),
        (
            lambda p: snapshot_with_a_broken_header(p) or p,
            "snapshot.pkl is not a deployment_modes snapshot",
        ),
    ],
)
def test_a_refused_start_says_error_and_names_the_file_never_a_traceback(
    tmp_path, capsys, make, message
):
    folder = make(tmp_path / "state")
    with pytest.raises(StateError, match=message):
        DurableDeployment(folder)
    with pytest.raises(SystemExit) as exit_:
        serve.main(["--state-dir", str(folder), "--port", "0"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("error: ") and message in err, err


def test_records_missing_after_the_snapshot_are_refused(tmp_path, events):
    state = DurableDeployment(tmp_path, "online", snapshot_every=10**6)
    state.learn_many(events[:3])
    crash(state)
    wal = sorted(tmp_path.glob("wal-0*.log"))[-1]
    later = wal.with_name("wal-000000000005.log")
    later.write_bytes(
        durable.encode({"seq": 5, "kind": "learn", "events": [[0.1, 0.2, 0.3, 0.4, 1]]})
    )
    wal.unlink()
    with pytest.raises(StateError, match="misses records 1 to 4"):
        DurableDeployment(tmp_path)
    assert later.exists()


def test_the_server_answers_507_on_a_full_disk(tmp_path, events, monkeypatch):
    from starlette.testclient import TestClient

    state = DurableDeployment(tmp_path, "online")
    with TestClient(serve.create_app(state), base_url="http://127.0.0.1:8000") as client:
        x, y = events[0]
        monkeypatch.setattr(os, "write", FullDisk(failures=1))
        r = client.post("/learn", json={"x": x, "y": y})
        monkeypatch.undo()
        assert r.status_code == 507 and "No space" in r.json()["detail"]
        assert client.post("/learn", json={"x": x, "y": y}).json()["n_seen"] == 1


# -- batch mode's memory, snapshots and predictions ---------------------------------------------

GATE = threading.Event()


class GatedLogisticRegression(LogisticRegression):
    """A logistic regression whose ``fit`` waits for ``GATE``: a retrain that takes as long as a test wants."""

    def fit(self, X, y):
        assert GATE.wait(60), "the gate was never opened"
        return super().fit(X, y)


def test_batch_mode_keeps_only_its_window_and_replays_a_swap_fitted_during_learning(
    tmp_path, events
):
    sc = dm.scenarios.drifting_classification(seed=0)
    GATE.set()
    durable.init_state(
        tmp_path,
        dm.BatchDeployment(GatedLogisticRegression(), window=500),
        *sc.initial,
        mode="batch",
    )
    state = DurableDeployment(tmp_path, snapshot_every=700)
    state.learn_many(events[:1000])
    GATE.clear()
    swap = threading.Thread(target=state.redeploy)
    swap.start()  # fits on the first 1,000 events while 2,000 more are learned (and snapshotted)
    for i in range(1000, 3000, 50):
        state.learn_many(events[i : i + 50])
    GATE.set()
    swap.join()
    for i in range(3000, 4000, 50):
        state.learn_many(events[i : i + 50])
    stored, snapshot = state.metrics()["stored_events"], state.last_snapshot["bytes"]
    assert state.model_version == 2 and stored <= 2 * 500 and state.n_seen == 4000
    live = state.deployment
    crash(state)
    again = DurableDeployment(tmp_path)
    assert (
        again.n_seen == 4000
        and again.model_version == 2
        and same_model(again.deployment, live, events[:200])
    )
    assert (
        again.metrics()["stored_events"] <= 2 * 500 and snapshot < 80_000
    )  # 4,000 events kept would be more
    again.close()


class SlowToPickle:
    """A toy deployment whose pickling waits until a prediction has been answered (or 10 s)."""

    model_version = 1
    waiting = False

    def __init__(self):
        self.pickling, self.predicted, self.answered_while_pickling = (
            threading.Event(),
            threading.Event(),
            None,
        )

    def predict_one(self, x):
        return 0.0

    def learn_one(self, x, y):
        pass

    def __getstate__(self):
        if SlowToPickle.waiting:
            self.pickling.set()
            self.answered_while_pickling = self.predicted.wait(10)
        return {"answered_while_pickling": self.answered_while_pickling}


def test_a_snapshot_does_not_block_predictions(tmp_path):
    toy = SlowToPickle()
    state = DurableDeployment(
        tmp_path,
        "online",
        deployment=toy,
        schema=durable.Schema(("a",), "regression"),
        snapshot_every=1,
    )

    def predict():
        toy.pickling.wait(10)
        state.predict_one({"a": 1.0})
        toy.predicted.set()

    SlowToPickle.waiting = True
    try:
        reader = threading.Thread(target=predict)
        reader.start()
        state.learn_one({"a": 1.0}, 1.0)  # a snapshot is due: it pickles the toy
        reader.join()
    finally:
        SlowToPickle.waiting = False
    assert toy.answered_while_pickling is True
    state.close()


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_predictions_are_the_training_labels_and_no_metric_before_a_score(tmp_path, events, mode):
    state = DurableDeployment(tmp_path, mode)
    assert state.metrics()["rolling_metric"]["value"] is None
    y_pred, _ = state.predict_one(events[0][0])
    assert type(y_pred) is int and y_pred in (0, 1)
    state.learn_one(*events[0])
    assert isinstance(state.metrics()["rolling_metric"]["value"], float)
    state.close()


class OneAtATime(dm.BatchDeployment):
    """A batch deployment that the monitor must score one ``predict`` per event (no predict_many)."""

    predict_many = None


class CountingLogisticRegression(LogisticRegression):
    """scikit-learn's LogisticRegression that counts its ``predict`` calls (in ``calls``)."""

    calls = 0

    def predict(self, X):
        CountingLogisticRegression.calls += 1
        return super().predict(X)


SCHEDULES = {
    "no schedule": {},
    "every 700 events": {"retrain_every": 700},
    "drift trigger": {"trigger": drift.ADWIN()},
}


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_batch_monitor_scores_many_events_at_once_with_the_same_result(tmp_path, events, schedule):
    """Scored later, many at once, each by the model that served it (a retrain in learn_one or a
    redeploy replaces it): the same rolling metric and alarms as one predict per event."""
    sc = dm.scenarios.drifting_classification(seed=0)
    metrics, calls = [], {}
    for name, kind in (("many", dm.BatchDeployment), ("one", OneAtATime)):
        CountingLogisticRegression.calls = 0
        deployment = kind(
            CountingLogisticRegression(), window=1000, **copy.deepcopy(SCHEDULES[schedule])
        )
        durable.init_state(tmp_path / name, deployment, *sc.initial, mode="batch")
        state = DurableDeployment(tmp_path / name)
        for i in range(0, 4000, 100):
            state.learn_many(events[i : i + 100])
            if i == 2500:
                state.redeploy()
            if i % 700 == 0:  # the monitor's number along the way too
                metrics.append((name, i, state.metrics()["rolling_metric"]))
        end = state.metrics()
        metrics.append((name, end["rolling_metric"], end["model_version"], state.monitor.alarms))
        state.close()
        calls[name] = CountingLogisticRegression.calls
    many = [m[1:] for m in metrics if m[0] == "many"]
    one = [m[1:] for m in metrics if m[0] == "one"]
    assert many == one and many[-1][-1]  # the same numbers all along, and alarms
    version = many[-1][1]
    assert calls["one"] >= 4000  # one predict per event for the monitor
    # the drift trigger predicts each event itself (reusing a served prediction where there is one,
    # as the monitor's in the one-at-a-time path): the monitor adds fewer than 100 calls on top
    trigger_calls = 4000 if schedule == "drift trigger" else 0
    assert calls["many"] - trigger_calls < 100
    if schedule == "drift trigger":
        assert version > 2
    if schedule != "drift trigger":
        assert version == {"no schedule": 2, "every 700 events": 2 + 4000 // 700}[schedule]


# -- the checks of a /learn_many body, all events at once ------------------------------------------

BAD_VALUES = st.one_of(
    st.floats(min_value=-2.0, max_value=3.0),  # in or out of the default schema's bounds
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308]),
    st.integers(min_value=-3, max_value=3),
    st.booleans(),
    st.just("1.0"),
)
FEATURES = ["x0", "x1", "x2", "x3"]


@pytest.fixture(scope="module")
def online_schema():
    return durable.default_deployment("online")[1]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(min_value=-0.9, max_value=1.9), min_size=4, max_size=4),
        min_size=1,
        max_size=6,
    ),
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from([*FEATURES, "x4"]), BAD_VALUES), max_size=2
    ),
    st.booleans(),
    st.booleans(),
)
def test_values_many_equals_values_event_by_event(online_schema, rows, changes, guard, drop):
    """Checked at once or one by one: the same values, or the same error for the first bad event
    (a value out of bounds, not finite, not a float, a feature missing or extra)."""
    xs = [dict(zip(FEATURES, row)) for row in rows]
    for i, feature, value in changes:
        xs[i % len(xs)][feature] = value
        if drop and feature == "x4":
            xs[i % len(xs)].pop("x0", None)

    def one_by_one():
        return [online_schema.values(x, f"events[{i}].", guard=guard) for i, x in enumerate(xs)]

    def outcome(function):
        try:
            return "values", function()
        except (ValueError, TypeError) as error:
            return type(error).__name__, str(error)

    at_once = outcome(lambda: online_schema.values_many(xs, guard=guard))
    assert repr(at_once) == repr(outcome(one_by_one))


@pytest.mark.parametrize("cut", [9, 12, 30, -2])
def test_a_crash_that_tears_the_last_record_of_a_real_log_loses_only_that_record(tmp_path, cut):
    """The server writes each record with its seq first, as read_log tells a torn tail by it: a
    restart skips the unacknowledged, unterminated last line and replays the rest."""
    x = {"x0": 0.1, "x1": 0.2, "x2": 0.3, "x3": 0.4}
    state = DurableDeployment(tmp_path, "online")
    state.learn_one(x, 1)
    state.learn_many([(x, 0), (x, 1)])
    state.close(snapshot=False)
    (path,) = tmp_path.glob("wal-*.log")
    first, second = path.read_bytes().splitlines(keepends=True)
    assert second[9:17] == b'{"seq":2'
    path.write_bytes(first + second[:cut])  # the second write cut short by a crash
    again = DurableDeployment(tmp_path)
    assert (again.seq, again.n_seen, again.metrics()["records_replayed_at_start"]) == (1, 1, 1)
    again.close()
