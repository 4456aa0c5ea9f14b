"""Scaling out: the out-of-core trainer on a Dask cluster, the model moving to the data.

A Dask DataFrame (for instance ``dask.dataframe.read_parquet(folder)``) is split into
partitions that live on the cluster's workers. :func:`fit_dask` sends the model to the worker
that holds (or reads) partition 1, updates it there with ``partial_fit``, sends it on to
partition 2, and so on: only the model travels, never the data. For the same partition order
it gives exactly the model of the local, chunk-by-chunk path. Needs the ``dask`` extra
(``pip install deployment-modes[dask]``).

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import time

from .memory import peak_rss, rss
from .out_of_core import _apply, _nbytes, learn_chunk

__all__ = ["fit_dask", "local_cluster"]


def local_cluster(n_workers: int = 2, *, processes: bool = True):
    """A small Dask ``LocalCluster`` on 127.0.0.1 (``processes=False``: threads in this process).

    >>> cluster = local_cluster(1, processes=False)
    >>> len(cluster.workers); cluster.close()
    1
    """
    from dask.distributed import LocalCluster

    where = {"host": "127.0.0.1"} if processes else {}
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes, dashboard_address=None,
                        **where)


def _learn_partition(model, part, target, classes, transform):
    """One step on a worker: learn the partition it holds, return the model and what it cost."""
    start = time.perf_counter()
    X = part.drop(columns=[target])
    y = part[target].to_numpy()
    Xt = _apply(transform, X)
    learn_chunk(model, Xt, y, classes=classes)
    return model, len(y), time.perf_counter() - start, _nbytes(X, Xt), rss(), peak_rss()


def fit_dask(trainer, frame, *, target: str, scheduler=None):
    """Train ``trainer`` on the Dask DataFrame ``frame``, one partition after another, in order.

    ``scheduler`` is a ``dask.distributed.Client``, a cluster (e.g. :func:`local_cluster`), a
    scheduler address such as ``"tcp://host:8786"``, or ``None`` for a 2-worker
    ``LocalCluster`` started and stopped here. Each partition is a chunk: the trainer's
    ``history`` gets one row per partition (memory figures are the worker's).
    """
    from dask.distributed import Client

    if not isinstance(target, str):
        raise TypeError(f"target must name the label column of the Dask DataFrame, got {target!r}")
    if target not in frame.columns:
        raise ValueError(f"target {target!r} is not a column of the Dask DataFrame; its columns are {list(frame.columns)}")
    own_cluster = None
    if scheduler is None:
        own_cluster = local_cluster(2)
        client = Client(own_cluster)
    elif isinstance(scheduler, Client):
        client = scheduler
    elif isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
        client = Client(scheduler)
    else:
        raise TypeError(f"scheduler must be a Client, a cluster, an address or None, got {type(scheduler).__name__}")
    try:
        model, records = trainer._start(), []
        parts = frame.to_delayed()
        upcoming = client.compute(parts[0]) if parts else None
        for i in range(len(parts)):
            start = time.perf_counter()
            part = upcoming
            if i + 1 < len(parts):  # read the next partition while this one trains: at most two in flight
                upcoming = client.compute(parts[i + 1])
            step = client.submit(_learn_partition, model, part, target, trainer.classes, trainer.transform, pure=False)
            model, rows, learn_seconds, nbytes, rss_bytes, peak_bytes = step.result()
            wall = time.perf_counter() - start
            trainer._record(model, rows, max(wall - learn_seconds, 0.0), learn_seconds, nbytes, rss_bytes, peak_bytes, records)
            del part, step
        return trainer._finish(model, records)
    finally:
        if scheduler is None or not isinstance(scheduler, Client):
            client.close()
        if own_cluster is not None:
            own_cluster.close()
