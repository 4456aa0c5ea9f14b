"""The Dask path on a real cluster, started as users start one: `dask scheduler` and two `dask worker` processes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

import deployment_modes as dm
from deployment_modes.scale_out import fit_dask

pytest.importorskip("dask.distributed")
pytestmark = pytest.mark.slow
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def start(*args, log):
    return subprocess.Popen(
        [DASK, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers on 127.0.0.1; always stopped, whatever happens."""
    if DASK is None:
        pytest.skip("the dask command line is not installed")
    folder = tmp_path_factory.mktemp("cluster")
    address_file = folder / "scheduler.json"
    processes = []
    with open(folder / "cluster.log", "wb") as log:
        try:
            processes.append(
                start(
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(address_file),
                    log=log,
                )
            )
            deadline = time.monotonic() + 60
            while not address_file.exists() or not address_file.read_text().strip():
                if time.monotonic() > deadline or processes[0].poll() is not None:
                    pytest.fail(
                        f"the scheduler did not start: {(folder / 'cluster.log').read_text()[-2000:]}"
                    )
                time.sleep(0.1)
            time.sleep(0.2)  # the file is written whole before the next poll reads it
            address = json.loads(address_file.read_text())["address"]
            for _ in range(2):
                processes.append(
                    start(
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--local-directory",
                        str(folder),
                        log=log,
                    )
                )
            yield address
        finally:
            for process in reversed(processes):
                stop(process)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's Parquet reader
def test_a_real_cluster_gives_the_model_of_the_local_path(cluster, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    from dask.distributed import Client

    files = dm.corpus.write_numeric(tmp_path / "data", n_rows=20_000, n_files=4, seed=0)
    local = dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1])
    local.fit(dm.read_chunks(tmp_path / "data", "y", chunk_rows=5_000))
    with Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
        remote = dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1])
        fit_dask(remote, dd.read_parquet([str(f) for f in files]), target="y", scheduler=client)
        assert (
            client.run(os.getpid).keys() == workers.keys()
        )  # the workers are other processes, still up
        assert os.getpid() not in client.run(os.getpid).values()
    np.testing.assert_array_equal(remote.model.coef_, local.model.coef_)
    np.testing.assert_array_equal(remote.model.intercept_, local.model.intercept_)
    assert remote.history["rows"].tolist() == local.history["rows"].tolist() == [5_000] * 4
