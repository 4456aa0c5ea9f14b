"""Tables of features: a 2-D input as a DataFrame with named columns, and a frame's rows as dicts.

Both deployments read their training data through these; they live apart from
:mod:`deployment_modes.batch` so that a process serving an online model (river) loads no
scikit-learn (:mod:`deployment_modes.batch` still offers both names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["as_frame", "records"]


def as_frame(X, name: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame with named columns (a 2-D array gets columns ``x0, x1, ...``).

    Parameters
    ----------
    X
        A DataFrame, or anything ``numpy.asarray`` makes 2-D.
    name
        The argument's name, for the error messages.

    Examples
    --------
    >>> as_frame([[1.0, 2.0]])
        x0   x1
    0  1.0  2.0
    """
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D (rows x features), got shape {array.shape}")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(
            f"{name} must have at least one row and one feature, got shape {frame.shape}"
        )
    return frame


def records(X: pd.DataFrame) -> tuple[list, bool]:
    """The rows of ``X`` as dicts, as ``X.to_dict(orient="records")`` gives them, and whether all are finite numbers.

    A frame of numeric columns (ints, floats) is converted a column at a time (``tolist``: the same
    Python numbers, faster); ``True`` then says every value is a finite number, checked at once.

    Parameters
    ----------
    X
        A DataFrame.

    Returns
    -------
    rows : list
        One dict per row, ``{column: value}``.
    finite : bool
        Whether every column is numeric and every value finite.

    Examples
    --------
    >>> records(pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}))
    ([{'a': 1.0, 'b': 3}, {'a': 2.0, 'b': 4}], True)
    """
    columns = [series for _, series in X.items()]
    if not all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iuf" for c in columns):
        return X.to_dict(orient="records"), False
    names = list(X.columns)
    rows = [dict(zip(names, row)) for row in zip(*(c.to_numpy().tolist() for c in columns))]
    return rows, bool(np.isfinite(X.to_numpy(dtype=float)).all())
