"""A difference is a finding only if it survives the seeds: run an experiment over several seeds.

:func:`over_seeds` calls an experiment once per seed and stacks what it measured;
:func:`per_seed` keeps what each call returns, a share of the seeds in a forked child if asked; :func:`spread`
summarises each measure as mean, min and max; :func:`mean_range` writes one as prose ("85.0
(min 80.1, max 88.3)"). The chapters state a conclusion only where it holds on every seed, or say
on how many (:func:`on_how_many`).

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import gc
import numbers
import os
import pickle
import signal
import sys

import numpy as np
import pandas as pd

__all__ = ["SEEDS", "mean_range", "on_how_many", "over_seeds", "per_seed", "spread"]

SEEDS = (0, 1, 2, 3, 4)  # the chapters' seeds: seed 0 is the one drawn in the figures


def over_seeds(experiment, seeds=SEEDS) -> pd.DataFrame:
    """One row per seed: the dict ``experiment(seed)`` returns, plus a ``seed`` column.

    Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.

    Parameters
    ----------
    experiment
        A callable, ``experiment(seed) -> dict`` of measure name -> number.
    seeds
        At least one seed, an iterable of int (the chapters use ``SEEDS``, five of them).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``seed``, one column per measure.

    Examples
    --------
    >>> over_seeds(lambda seed: {"double": 2 * seed}, seeds=(0, 1, 2))["double"].tolist()
    [0, 2, 4]
    """
    seeds = _checked(experiment, seeds, "experiment(seed) -> dict")
    rows = []
    for seed in seeds:
        measured = experiment(seed)
        if not isinstance(measured, dict):
            raise TypeError(
                f"experiment must return a dict of measures, got {type(measured).__name__}"
            )
        rows.append({"seed": int(seed), **measured})
    return pd.DataFrame(rows).set_index("seed")


def per_seed(experiment, seeds=SEEDS, *, processes: int = 1) -> dict:
    """``{seed: experiment(seed)}``, with ``processes`` seeds computed at a time.

    With ``processes=2`` (on Linux, where a process can fork) a child forked from this process
    computes every other seed while this process computes the rest, on the machine's second core;
    the child sends its results back pickled. Each call is the same as in one process (the child
    starts from this process as it is), so the results are too, number for number; only the wall
    time is shorter. Use it for experiments that do not time themselves: two at a time, their
    seconds would not be those of one alone. A forked child has one thread, this one: an experiment
    that relies on a pool of threads this process started (OpenMP, a multithreaded BLAS) may hang
    in the child, so run it with ``processes=1``. It helps only when a core is free.
    Defined in the Online learning chapter (``book/online.ipynb``).

    Parameters
    ----------
    experiment
        A callable, ``experiment(seed)``, whose result pickles.
    seeds
        At least one seed, an iterable of int.
    processes
        1 (one after the other, here) or 2 (two at a time).

    Examples
    --------
    >>> per_seed(lambda seed: seed * seed, seeds=(1, 2, 3), processes=2)
    {1: 1, 2: 4, 3: 9}
    """
    seeds = _checked(experiment, seeds, "experiment(seed)")
    if isinstance(processes, bool) or processes not in (1, 2):
        raise ValueError(f"processes must be 1 or 2, got {processes!r}")
    if processes == 1 or len(seeds) < 2 or not sys.platform.startswith("linux"):
        return {seed: experiment(seed) for seed in seeds}
    theirs = seeds[1::2]  # the child's share; this process computes seeds[0::2]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute its share, send it, never return into the caller's code
        os.close(read)
        gc.freeze()  # the collector leaves the objects it shares with this process alone: no copies
        code = 0
        # a kernel's output streams belong to its threads, which the child has not: it writes nowhere
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - closed by os._exit
        try:
            out = pickle.dumps((True, {seed: experiment(seed) for seed in theirs}), -1)
        except BaseException as error:  # noqa: BLE001 - whatever failed, the parent raises it
            code = 1
            try:
                out = pickle.dumps((False, error), -1)
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
                out = pickle.dumps((False, RuntimeError(repr(error))), -1)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(out)
        os._exit(code)
    os.close(write)
    try:
        ours = {seed: experiment(seed) for seed in seeds[0::2]}
    except BaseException:  # failed or interrupted here: the child's share is not wanted either
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        raise
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(
            f"the child computing seeds {theirs} ended (wait status {status}) without an answer"
        )
    ok, answer = pickle.loads(data)
    if not ok:
        raise answer
    both = {**ours, **answer}
    return {seed: both[seed] for seed in seeds}


def _checked(experiment, seeds, signature: str) -> list:
    """The seeds as a list, after checking both arguments (a clear error naming the wrong one)."""
    if not callable(experiment):
        raise TypeError(
            f"experiment must be a callable {signature}, got {type(experiment).__name__}"
        )
    seeds = list(seeds)
    if not seeds or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in seeds
    ):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    return seeds


def spread(frame: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Mean, min and max over the seeds of each measure (one row per measure).

    A measure that is missing on some seed (``None``/NaN, e.g. "never recovered") keeps the
    count of seeds where it was measured in ``seeds measured``.
    Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.

    Parameters
    ----------
    frame
        The non-empty DataFrame :func:`over_seeds` returns (one row per seed).
    columns
        The measures to summarise (default ``None``: every column).

    Returns
    -------
    pandas.DataFrame
        One row per measure; columns ``mean``, ``min``, ``max`` and ``seeds measured``.

    Examples
    --------
    >>> runs = pd.DataFrame({"a": [1.0, 2.0, 6.0]})
    >>> spread(runs).loc["a"].tolist()
    [3.0, 1.0, 6.0, 3.0]
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise TypeError("frame must be the non-empty DataFrame over_seeds returns")
    columns = list(frame.columns) if columns is None else list(columns)
    numeric = frame[columns].apply(pd.to_numeric, errors="coerce")
    return pd.DataFrame(
        {
            "mean": numeric.mean(),
            "min": numeric.min(),
            "max": numeric.max(),
            "seeds measured": numeric.notna().sum(),
        }
    )


def mean_range(values, fmt: str = "{:.1f}", *, scale: float = 1.0, never: str = "never") -> str:
    """Write the values over the seeds as ``"mean (min a, max b)"``, for the prose.

    Missing values (``None``/NaN, "never") are named: ``never`` on every seed gives ``never``.
    Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.

    Parameters
    ----------
    values
        One number per seed (``None`` or NaN where it was not measured).
    fmt
        The format of each number (a ``str.format`` pattern).
    scale
        Multiply the values by it first (100 for a percentage).
    never
        The word for a missing value.

    Returns
    -------
    str
        ``"mean (min a, max b)"``; ``"value (on every seed)"`` when all are equal as written; with
        ``"; never on k of n seeds"`` when some are missing.

    Examples
    --------
    >>> mean_range([0.8, 0.9, 0.85], scale=100)
    '85.0 (min 80.0, max 90.0)'
    >>> mean_range([24, 24.2], "{:,.0f}")
    '24 (on every seed)'
    >>> mean_range([300, None, 500], "{:,.0f}")
    '400 (min 300, max 500; never on 1 of 3 seeds)'
    """
    series = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce") * scale
    missing = int(series.isna().sum())
    if missing == len(series):
        return never
    measured = series.dropna()
    low, high = fmt.format(measured.min()), fmt.format(measured.max())
    if not missing and low == high:  # equal as written: the range would say nothing
        return f"{low} (on every seed)"
    text = f"{fmt.format(measured.mean())} (min {low}, max {high}"
    if missing:
        text += f"; {never} on {missing} of {len(series)} seeds"
    return text + ")"


def on_how_many(condition) -> str:
    """In words, on how many seeds a condition holds: ``"3 of the 5 seeds"`` or ``"every one of the 5 seeds"``.

    Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.

    Parameters
    ----------
    condition
        One boolean per seed (an iterable or a numpy array), at least one.

    Returns
    -------
    str
        The phrase, for the prose.

    Examples
    --------
    >>> on_how_many([True, True, False])
    '2 of the 3 seeds'
    >>> on_how_many(np.array([True, True]))
    'every one of the 2 seeds'
    """
    flags = np.asarray(list(condition), dtype=bool)
    if flags.size == 0:
        raise ValueError("condition must hold one boolean per seed, got none")
    if flags.all():
        return f"every one of the {flags.size} seeds"
    return f"{int(flags.sum())} of the {flags.size} seeds"
