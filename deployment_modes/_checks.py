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
    """Raise TypeError naming ``name`` when ``obj`` has no callable ``method``."""
    if not callable(getattr(obj, method, None)):
        raise TypeError(f"{name} must have a {method}() method, got {type(obj).__name__}")


def features(x, expected, name: str = "x") -> None:
    """Check that the dict ``x`` has exactly the ``expected`` keys and finite numeric values."""
    if not isinstance(x, dict):
        raise TypeError(f"{name} must be a dict of feature -> number, got {type(x).__name__}")
    if expected is not None and set(x) != set(expected):
        missing = sorted(set(expected) - set(x), key=str)
        extra = sorted(set(x) - set(expected), key=str)
        raise ValueError(f"{name} has features that differ from training: missing {missing}, extra {extra}")
    for key, value in x.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}[{key!r}] must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")
