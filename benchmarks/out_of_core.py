"""Out-of-core training, side by side with the recipes a user would otherwise use, in one run.

On one numeric table (``dm.corpus.write_numeric``: N rows of 20 features, in 10 files, as
Parquet and as CSV), with the same ``SGDClassifier(random_state=0)`` and chunks of 10,000 rows:

(a) peak RSS of out-of-core training when the data grows 10x (each run in a fresh process;
    goal <= 1.1x), and of loading everything, for contrast;
(b) rows per second against scikit-learn's out-of-core recipe, ``pandas.read_csv(chunksize=)``
    + ``partial_fit`` on the CSV files (goal: the package from Parquet >= 3x, from the same CSV
    files >= 1x), in interleaved rounds (package Parquet, package CSV, recipe), best of each,
    wall-clock and process CPU time (the CPU ratio is the steadier one on a shared host);
(c) against ``partial_fit`` on the same chunks already in memory (goal: streaming from disk
    costs <= 1.3x);
(d) the Dask path on a 2-worker LocalCluster (processes) against the local path, one partition
    per file, and whether both give the same model.

    PYTHONPATH=. python benchmarks/out_of_core.py [--rows 1000000]

Timings are the best of ``--repeat`` runs. Writes benchmarks/results/out_of_core.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import SGDClassifier

import deployment_modes as dm

CHUNK = 10_000
RESULTS = Path(__file__).resolve().parent / "results" / "out_of_core.json"


def interleaved(funcs: dict, rounds: int) -> tuple[dict, dict, dict]:
    """Run each function once per round, in turn (the host's speed drifts): best wall and CPU seconds, last output."""
    wall = {name: float("inf") for name in funcs}
    cpu = dict(wall)
    out = {}
    for _ in range(rounds):
        for name, func in funcs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            out[name] = func()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return wall, cpu, out


def best(func, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def package(path) -> SGDClassifier:
    reader = dm.read_chunks(path, "y", chunk_rows=CHUNK)
    return dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(reader).model


def pandas_recipe(files) -> SGDClassifier:
    """scikit-learn's out-of-core example, on numbers: pandas.read_csv(chunksize=) + partial_fit."""
    model = SGDClassifier(random_state=0)
    for file in files:
        for frame in pd.read_csv(file, chunksize=CHUNK):
            model.partial_fit(frame.drop(columns="y"), frame["y"].to_numpy(), classes=[0, 1])
    return model


def in_memory_loop(chunks) -> SGDClassifier:
    model = SGDClassifier(random_state=0)
    for X, y in chunks:
        model.partial_fit(X, y, classes=[0, 1])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sections", default="abcd", help="which of (a) to (d) to run, e.g. 'b'")
    args = parser.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        parquet = dm.corpus.write_numeric(tmp / "parquet", n_rows=n, n_files=10, seed=0)
        csv = dm.corpus.write_numeric(tmp / "csv", n_rows=n, n_files=10, seed=0, format="csv")
        small = dm.corpus.write_numeric(tmp / "small", n_rows=n // 10, n_files=1, seed=0)
        results = {
            "rows": n,
            "features": 20,
            "chunk_rows": CHUNK,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(),
        }

        common = {"classes": [0, 1], "target": "y", "text": None, "chunk_rows": CHUNK}
        runs = [
            {"path": [str(f) for f in files], "in_memory": load_all, **common}
            for files in (small, parquet)
            for load_all in (False, True)
        ]
        if "a" in args.sections:
            results["a_memory"] = memory_section(runs, small, common)
        if "b" in args.sections or "c" in args.sections:
            speed_sections(results, tmp, csv, n, args)
        if "d" in args.sections:
            results["d_dask_vs_local"] = dask_section(tmp, n, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    name = (
        RESULTS
        if args.sections == "abcd"
        else RESULTS.with_name(f"out_of_core_{args.sections}.json")
    )
    name.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def memory_section(runs, small, common) -> dict:
    """(a) peak RSS of out-of-core training and of loading everything, data x1 and x10, each in a fresh process."""
    ooc_small, all_small, ooc_big, all_big = dm.measure_peak(
        "deployment_modes.out_of_core:train_on_disk",
        runs,
        warmup={"path": [str(small[0])], **common},
    )
    return {
        "out_of_core_peak_mb": [ooc_small["peak_mb"], ooc_big["peak_mb"]],
        "load_everything_peak_mb": [all_small["peak_mb"], all_big["peak_mb"]],
        "out_of_core_peak_ratio_10x": ooc_big["peak_mb"] / ooc_small["peak_mb"],
        "load_everything_peak_ratio_10x": all_big["peak_mb"] / all_small["peak_mb"],
        "goal": "<= 1.1",
    }


def speed_sections(results: dict, tmp: Path, csv, n: int, args) -> None:
    """(b) against pandas read_csv + partial_fit and (c) against the same chunks in memory."""
    wall, cpu, models = interleaved(
        {
            "parquet": lambda: package(tmp / "parquet"),
            "csv": lambda: package(tmp / "csv"),
            "pandas": lambda: pandas_recipe(csv),
        },
        args.repeat,
    )
    t_parquet, t_csv, t_pandas = wall["parquet"], wall["csv"], wall["pandas"]
    m_parquet, m_csv, m_pandas = models["parquet"], models["csv"], models["pandas"]
    chunks = list(dm.read_chunks(tmp / "parquet", "y", chunk_rows=CHUNK))
    t_memory, m_memory = best(lambda: in_memory_loop(chunks), args.repeat)
    chunks = None  # free the chunks before the next section
    results["b_speed_vs_pandas_read_csv"] = {
        "rows_per_second": {
            "package_parquet": n / t_parquet,
            "package_csv": n / t_csv,
            "pandas_read_csv": n / t_pandas,
        },
        "speedup_package_parquet": t_pandas / t_parquet,
        "speedup_package_csv": t_pandas / t_csv,
        "cpu_speedup_package_parquet": cpu["pandas"] / cpu["parquet"],
        "cpu_speedup_package_csv": cpu["pandas"] / cpu["csv"],
        "goal": "parquet >= 3, csv >= 1",
        "rounds": args.repeat,
        "timing": "best of interleaved rounds",
        "same_model_as_recipe": bool(
            np.allclose(m_parquet.coef_, m_pandas.coef_)
            and np.allclose(m_csv.coef_, m_pandas.coef_)
        ),
    }
    results["c_streaming_cost_vs_in_memory_chunks"] = {
        "seconds": {"package_parquet": t_parquet, "in_memory_chunks": t_memory},
        "ratio": t_parquet / t_memory,
        "goal": "<= 1.3",
        "same_model": bool(np.array_equal(m_parquet.coef_, m_memory.coef_)),
    }


def dask_section(tmp: Path, n: int, args) -> dict:
    """(d) Dask on a 2-worker LocalCluster, one partition per file, against the local path with the same chunks.

    tests/test_dask_cluster.py checks the same on a cluster started as users start one
    (``dask scheduler`` and two ``dask worker`` processes).
    """
    import dask.dataframe as dd
    from dask.distributed import Client

    from deployment_modes.scale_out import fit_dask, local_cluster

    file_rows = n // 10
    local_time, local = best(
        lambda: dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(
            dm.read_chunks(tmp / "parquet", "y", chunk_rows=file_rows)
        ),
        args.repeat,
    )
    with local_cluster(2) as cluster, Client(cluster) as client:
        frame = dd.read_parquet(str(tmp / "parquet"))
        dask_time, remote = best(
            lambda: fit_dask(
                dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]),
                frame,
                target="y",
                scheduler=client,
            ),
            args.repeat,
        )
    return {
        "seconds": {"local": local_time, "dask_2_workers": dask_time},
        "dask_over_local_time": dask_time / local_time,
        "same_model": bool(np.array_equal(local.model.coef_, remote.model.coef_)),
        "partitions": len(remote.history),
    }


if __name__ == "__main__":
    main()
