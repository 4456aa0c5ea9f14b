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

from .chunk_learning import chunk_nbytes, learn_chunk, transform_chunk
from .memory import peak_rss, rss
from .threads import one_thread

__all__ = ["fit_dask", "local_cluster"]


def local_cluster(n_workers: int = 2, *, processes: bool = True):
    """A small Dask ``LocalCluster`` on 127.0.0.1 (``processes=False``: threads in this process).

    Dask's own ``silence_logs`` quiets its INFO messages only while the cluster lives, and a
    closing cluster's last ones (``Batched Comm Closed``, with a traceback) can come after: here
    distributed's console handlers print warnings and errors only, from now on in this process.

    Parameters
    ----------
    n_workers
        Workers, one thread each.
    processes
        Workers in their own processes (``False``: threads of this process).

    Examples
    --------
    >>> cluster = local_cluster(1, processes=False)
    >>> len(cluster.workers); cluster.close()
    1
    """
    import logging

    from dask.distributed import LocalCluster

    for handler in logging.getLogger("distributed").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setLevel(max(handler.level, logging.WARNING))
    where = {"host": "127.0.0.1"} if processes else {}
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        silence_logs=False,  # quieted above, for good
        **where,
    )


def _learn_partition(model, part, target, classes, transform):
    """One step on a worker: learn the partition it holds, return the model and what it cost."""
    start = time.perf_counter()
    X = part.drop(columns=[target])
    y = part[target].to_numpy()
    Xt = transform_chunk(transform, X)
    with one_thread():  # as the local trainer: BLAS threads only wait for each other here
        learn_chunk(model, Xt, y, classes=classes)
    return model, len(y), time.perf_counter() - start, chunk_nbytes(X, Xt), rss(), peak_rss()


def fit_dask(trainer, frame, *, target: str, scheduler=None):
    """Train ``trainer`` on the Dask DataFrame ``frame``, one partition after another, in order.

    ``scheduler`` is a ``dask.distributed.Client``, a cluster (e.g. :func:`local_cluster`), a
    scheduler address such as ``"tcp://host:8786"``, or ``None`` for a 2-worker
    ``LocalCluster`` started and stopped here. Each partition is a chunk: the trainer's
    ``history`` gets one row per partition (memory figures are the worker's).

    This is the Dask path, called explicitly: :meth:`~deployment_modes.OutOfCoreTrainer.fit`
    takes local chunks only. It drives the trainer through its public steps
    (:meth:`~deployment_modes.OutOfCoreTrainer.start`, a
    :class:`~deployment_modes.chunk_learning.ChunkHistory` record per partition,
    :meth:`~deployment_modes.OutOfCoreTrainer.finish`).

    Parameters
    ----------
    trainer
        An :class:`~deployment_modes.OutOfCoreTrainer`; it holds the model and history after.
    frame
        A Dask DataFrame (e.g. ``dask.dataframe.read_parquet(folder)``).
    target
        Its label column.
    scheduler
        A ``Client``, a cluster, a scheduler address, or ``None`` (a 2-worker local cluster).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from sklearn.linear_model import SGDClassifier
    >>> from deployment_modes import OutOfCoreTrainer
    >>> frame = dd.from_pandas(pd.DataFrame({"x": [0.0, 1.0] * 4, "y": [0, 1] * 4}), npartitions=2)
    >>> with local_cluster(1, processes=False) as cluster:
    ...     trainer = fit_dask(OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]), frame,
    ...                        target="y", scheduler=cluster)
    >>> trainer.history["rows_seen"].tolist()
    [4, 8]
    """
    from dask.distributed import Client

    if not isinstance(target, str):
        raise TypeError(f"target must name the label column of the Dask DataFrame, got {target!r}")
    if target not in frame.columns:
        raise ValueError(
            f"target {target!r} is not a column of the Dask DataFrame; its columns are {list(frame.columns)}"
        )
    own_cluster = None
    if scheduler is None:
        own_cluster = local_cluster(2)
        client = Client(own_cluster)
    elif isinstance(scheduler, Client):
        client = scheduler
    elif isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
        client = Client(scheduler)
    else:
        raise TypeError(
            f"scheduler must be a Client, a cluster, an address or None, got {type(scheduler).__name__}"
        )
    try:
        model, history = trainer.start()
        parts = frame.to_delayed()
        upcoming = client.compute(parts[0]) if parts else None
        for i in range(len(parts)):
            start = time.perf_counter()
            part = upcoming
            if i + 1 < len(
                parts
            ):  # read the next partition while this one trains: at most two in flight
                upcoming = client.compute(parts[i + 1])
            step = client.submit(
                _learn_partition,
                model,
                part,
                target,
                trainer.classes,
                trainer.transform,
                pure=False,
            )
            model, rows, learn_seconds, nbytes, rss_bytes, peak_bytes = step.result()
            wall = time.perf_counter() - start
            history.record(
                model,
                rows=rows,
                read_seconds=max(wall - learn_seconds, 0.0),
                learn_seconds=learn_seconds,
                nbytes=nbytes,
                rss_bytes=rss_bytes,
                peak_bytes=peak_bytes,
            )
            del part, step
        return trainer.finish(model, history)
    finally:
        if scheduler is None or not isinstance(scheduler, Client):
            client.close()
        if own_cluster is not None:
            own_cluster.close()
