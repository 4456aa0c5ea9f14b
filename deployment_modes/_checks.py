"""Argument checks shared by the public functions: clear errors that name the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


def plain(value):
    """A numpy scalar as the plain Python value (events and labels then serialise and compare simply)."""
    return value.item() if isinstance(value, np.generic) else value


def positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` if it is an int > 0, else raise naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def fraction(value, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` as a float in [low, high], else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
    return float(value)


def has_method(obj, method: str, name: str) -> None:
    """Raise TypeError naming ``name`` when ``obj`` has no callable ``method`` (or is a class, not an instance)."""
    if isinstance(obj, type):
        raise TypeError(
            f"{name} must be an instance, e.g. {obj.__name__}(), got the class {obj.__name__}"
        )
    if not callable(getattr(obj, method, None)):
        raise TypeError(f"{name} must have a {method}() method, got {type(obj).__name__}")


def features(x, expected, name: str = "x", *, numbers_only: bool = True, text=None) -> None:
    """Check that the dict ``x`` has exactly the ``expected`` keys (if given) and finite values.

    The one feature check of the package. Values must be numbers (``numbers_only``: what an
    estimator fed arrays needs; booleans are refused) or, for a river model, also strings and
    booleans; ``text`` (if given) names the features whose values may be strings (the others
    were numbers in training: a string there would fail inside the model, half-way through
    learning). A float or an int passes on the fast path, one type test per value.
    """
    if type(x) is not dict and not isinstance(x, dict):
        raise TypeError(f"{name} must be a dict of feature -> value, got {type(x).__name__}")
    if expected is not None and x.keys() != expected:
        expected = set(expected)
        if x.keys() != expected:
            missing = sorted(expected - x.keys(), key=str)
            extra = sorted(x.keys() - expected, key=str)
            raise ValueError(
                f"{name} has features that differ from training: missing {missing}, extra {extra}"
            )
    # the fast path: a C-level sum is a float (or int) and finite iff every value is a finite
    # number
    if not numbers_only:
        try:
            total = sum(x.values())
        except TypeError:  # a string, or not a number: the loop below says which
            total = None
        kind = type(total)
        if (kind is float and total - total == 0.0) or kind is int:
            return
    for key, value in x.items():
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # inf - inf and nan - nan are nan: not finite
                raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")
        elif kind is not int:  # the fast path ends here
            _check_value(value, f"{name}[{key!r}]", numbers_only, text is None or key in text)


def _check_value(value, name: str, numbers_only: bool, text_allowed: bool = True) -> None:
    if not numbers_only and isinstance(value, (str, bool)):
        if isinstance(value, str) and not text_allowed:
            raise TypeError(f"{name} must be a number, as in training, got str {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number{'' if numbers_only else ' or a string'}, "
            f"got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def labels(y, n_rows: int, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D array of one label per row (``n_rows``), else a ValueError naming ``name``."""
    if y is None or isinstance(y, (str, bytes, dict)):
        raise TypeError(
            f"{name} must be a list or array of labels, one per row, got {type(y).__name__}"
        )
    array = np.asarray(y)
    if array.ndim != 1 or len(array) != n_rows:
        raise ValueError(
            f"{name} must have one label per row of X: got shape {array.shape} for {n_rows} rows"
        )
    return array


def label(y, classification: bool, *, kind=None, classes=None, name: str = "y"):
    """Check one label; return it as a plain Python value.

    The one label check of the package. A regression target is a finite number (not a bool); a
    class label is a str, an int or a bool, of the ``kind`` of the earlier labels (``str`` or
    ``numbers.Integral``) if given, and one of ``classes`` if given.
    """
    kind_of = type(y)
    if classification and classes is None and (kind_of is int or kind_of is str):
        if kind is None or isinstance(y, kind):  # the fast path: a plain label of the right kind
            return y
    elif not classification and kind_of is float and y - y == 0.0:  # a finite float
        return y
    y = plain(y)
    if not classification:
        if isinstance(y, bool) or not isinstance(y, numbers.Real):
            raise TypeError(
                f"{name} must be a number (a regression target), got {type(y).__name__} {y!r}"
            )
        if not math.isfinite(y):
            raise ValueError(f"{name} must be finite, got {y!r}")
        return y
    if not isinstance(y, (str, numbers.Integral)):
        raise TypeError(
            f"{name} must be a class label (str, int or bool), got {type(y).__name__} {y!r}"
        )
    if kind is not None and not isinstance(y, kind):
        raise TypeError(
            f"{name} must be a class label like the earlier ones ({kind.__name__}), "
            f"got {type(y).__name__} {y!r}"
        )
    if classes is not None and y not in classes:
        raise ValueError(f"{name} must be one of the classes {list(classes)}, got {y!r}")
    return y


def label_kind(y):
    """The kind a class label fixes for the next ones: ``str`` or ``numbers.Integral``."""
    return str if isinstance(y, str) else numbers.Integral


def numeric_labels(y: np.ndarray) -> bool:
    """Whether the labels ``y`` are numbers (not bools): a regression target, unless the estimator is a classifier."""
    return np.issubdtype(y.dtype, np.number) and not np.issubdtype(y.dtype, np.bool_)


def plain_labels(ys, numeric: bool, kind) -> bool:
    """Whether every label passes ``label``'s fast path as it is: finite floats, or ints or strings of ``kind``."""
    types = set(map(type, ys))
    if numeric:
        if types != {float}:
            return False
        total = sum(ys)
        return total - total == 0.0  # NaN iff a label is NaN or infinite (or the sum overflows)
    if types == {int}:
        return kind in (None, numbers.Integral)
    return types == {str} and kind in (None, str)


def training_label_kind(y: np.ndarray, classification: bool):
    """The kind of label the training labels fix: ``bool``, ``numbers.Integral``, ``str`` (classes) or a number."""
    if not classification:
        return None
    if np.issubdtype(y.dtype, np.bool_):
        return bool
    if np.issubdtype(y.dtype, np.integer):
        return numbers.Integral
    if np.issubdtype(y.dtype, np.str_):
        return str
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(
                "y holds non-integer numbers but the estimator is a classifier: "
                "class labels must be ints, strings or bools"
            )
        return numbers.Integral
    kinds = {
        bool
        if isinstance(v, (bool, np.bool_))
        else str
        if isinstance(v, str)
        else numbers.Integral
        if isinstance(v, numbers.Integral)
        else type(v)
        for v in y.tolist()
    }
    if len(kinds) != 1 or not kinds <= {bool, str, numbers.Integral}:
        raise TypeError(
            "y must hold class labels of one kind (all str, all int or all bool), "
            f"got {sorted(k.__name__ for k in kinds)}"
        )
    return kinds.pop()


def one_of(value, options, name: str) -> str:
    """Return ``value`` if it is one of the strings ``options``, else raise naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be one of {list(options)}, got {type(value).__name__} {value!r}"
        )
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def boolean(value, name: str) -> bool:
    """Return ``value`` if it is True or False, else raise naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def gigabytes(value, name: str) -> float:
    """Return ``value`` as a float if it is a positive, finite number (of gigabytes), else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number of gigabytes, got {type(value).__name__} {value!r}"
        )
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of gigabytes, got {value!r}")
    return float(value)
