"""Out-of-core training, side by side with the recipes a user would otherwise use, in one run.

On one numeric table (``dm.corpus.write_numeric``: N rows of 20 features, in 10 files, as
Parquet and as CSV), with the same ``SGDClassifier(random_state=0)`` and chunks of 10,000 rows:

(a) peak RSS of out-of-core training when the data grows 10x (each run in a fresh process;
    goal <= 1.1x), and of loading everything, for contrast;
(b) rows per second against scikit-learn's out-of-core recipe, ``pandas.read_csv(chunksize=)``
    + ``partial_fit`` on the CSV files (goal: the package from the same CSV files >= 1x, from
    Parquet >= 3x), and (c) streaming Parquet against ``partial_fit`` on the same chunks already
    in memory (goal <= 1.3x). (b) and (c) run in the same interleaved rounds (package Parquet,
    package CSV, recipe, chunks in memory), best of each, wall-clock and process CPU time (the
    CPU ratio is the steadier one on a shared host; the wall-clock ratio shows what reading in a
    thread while learning gains); every path must train the recipe's coefficients exactly;
(d) the Dask path on a 2-worker LocalCluster (processes) against the local path, one partition
    per file, and whether both give the same model.

    PYTHONPATH=. python benchmarks/out_of_core.py [--rows 1000000]

Timings are the best of ``--repeat`` runs. Writes benchmarks/results/out_of_core.json; a run of
some sections (``--sections bc``) replaces those sections in it and keeps the others. Each
section records the load average (1 minute) before and after it.
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


def interleaved(funcs: dict, rounds: int) -> tuple[dict, dict, dict, dict]:
    """Run each function once per round, in turn (the host's speed drifts).

    Best wall and CPU seconds, the user and system CPU seconds of the best CPU round (system
    time is mostly page faults: fresh memory from the kernel), and the last output.
    """
    wall = {name: float("inf") for name in funcs}
    cpu, split, out = dict(wall), {}, {}
    for _ in range(rounds):
        for name, func in funcs.items():
            start, start_cpu = time.perf_counter(), os.times()
            out[name] = func()
            wall[name] = min(wall[name], time.perf_counter() - start)
            end_cpu = os.times()
            user, system = end_cpu.user - start_cpu.user, end_cpu.system - start_cpu.system
            if user + system < cpu[name]:
                cpu[name], split[name] = user + system, {"user": user, "system": system}
    return wall, cpu, split, out


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def with_load(section) -> dict:
    """Run a section; its result with the load average (1 minute) before and after it."""
    before = load_average()
    result = section()
    load = {"load_average": [before, load_average()]}
    if all(isinstance(value, dict) for value in result.values()):
        return {name: {**value, **load} for name, value in result.items()}
    return {**result, **load}


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
    parser.add_argument("--repeat", type=int, default=7)
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
            "python": platform.python_version(),
        }

        common = {"classes": [0, 1], "target": "y", "text": None, "chunk_rows": CHUNK}
        runs = [
            {"path": [str(f) for f in files], "in_memory": load_all, **common}
            for files in (small, parquet)
            for load_all in (False, True)
        ]
        if "a" in args.sections:
            results["a_memory"] = with_load(lambda: memory_section(runs, small, common))
        if "b" in args.sections or "c" in args.sections:
            results.update(with_load(lambda: speed_sections(tmp, csv, n, args)))
        if "d" in args.sections:
            results["d_dask_vs_local"] = with_load(lambda: dask_section(tmp, n, args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if kept.get("rows") != n:  # sections measured on other sizes do not belong with these
        kept = {}
    kept.pop("load_average", None)  # each section has its own now
    kept.update(results)
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")
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


def speed_sections(tmp: Path, csv, n: int, args) -> dict:
    """(b) against pandas read_csv + partial_fit and (c) against the same chunks in memory, in the same rounds."""
    chunks = list(dm.read_chunks(tmp / "parquet", "y", chunk_rows=CHUNK))
    wall, cpu, split, models = interleaved(
        {
            "parquet": lambda: package(tmp / "parquet"),
            "csv": lambda: package(tmp / "csv"),
            "pandas": lambda: pandas_recipe(csv),
            "memory": lambda: in_memory_loop(chunks),
        },
        args.repeat,
    )
    chunks = None  # free the chunks before the next section
    for name in ("parquet", "csv", "memory"):  # the same model as the recipe, to the last bit
        if not np.array_equal(models[name].coef_, models["pandas"].coef_):
            raise AssertionError(f"{name} trained other coefficients than the pandas recipe")
    return {
        "b_speed_vs_pandas_read_csv": {
            "rows_per_second": {
                "package_parquet": n / wall["parquet"],
                "package_csv": n / wall["csv"],
                "pandas_read_csv": n / wall["pandas"],
            },
            "speedup_package_csv": wall["pandas"] / wall["csv"],
            "speedup_package_parquet": wall["pandas"] / wall["parquet"],
            "cpu_speedup_package_csv": cpu["pandas"] / cpu["csv"],
            "cpu_speedup_package_parquet": cpu["pandas"] / cpu["parquet"],
            "cpu_seconds_user_system": {
                "package_parquet": split["parquet"],
                "package_csv": split["csv"],
                "pandas_read_csv": split["pandas"],
            },
            "goal": "csv >= 1, parquet >= 3",
            "rounds": args.repeat,
            "timing": "best of interleaved rounds",
            "same_coefficients_as_recipe": True,  # asserted above
        },
        "c_streaming_cost_vs_in_memory_chunks": {
            "seconds": {"package_parquet": wall["parquet"], "in_memory_chunks": wall["memory"]},
            "cpu_seconds": {"package_parquet": cpu["parquet"], "in_memory_chunks": cpu["memory"]},
            "ratio": wall["parquet"] / wall["memory"],
            "cpu_ratio": cpu["parquet"] / cpu["memory"],
            "goal": "<= 1.3",
            "timing": "best of the same interleaved rounds as (b)",
            "same_coefficients": True,  # asserted above
        },
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
