"""The first training of an online model, done once per process for the same model and data.

The chapters train the same river model on the same initial data many times (one line per
guardrail, per learning rate, per seed): each time the result is the same model. This module
remembers a trained model by the content of what went in (the untrained model and the data,
pickled and hashed) and hands out copies, with the seconds the training took. A model with a
random seed left unset (a parameter ``seed=None``) is always trained anew: its training is not a
function of its inputs. :meth:`~deployment_modes.OnlineDeployment.fit_initial` uses it.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections import OrderedDict

__all__ = ["recall", "remember", "training_key"]

_TRAINED: OrderedDict = OrderedDict()  # key -> (trained model, seconds), the most recent last
_SIZE = 64


def _seeded(params) -> bool:
    """Whether no parameter named ``seed`` is left ``None`` in river's nested ``_get_params()``."""
    for name, value in params.items():
        if name == "seed" and value is None:
            return False
        if isinstance(value, dict) and not _seeded(value):
            return False
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
            if not _seeded(value[1]):  # a (class, params) pair
                return False
    return True


def training_key(model, X, y, epochs: int) -> str | None:
    """The content key of training the untrained river ``model`` on ``(X, y)``; None: train anew.

    Parameters
    ----------
    model
        The river model before the training.
    X, y
        The training data (a DataFrame and a list of labels).
    epochs
        Passes over the data.

    Examples
    --------
    >>> from river import linear_model
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x0": [0.0, 1.0]})
    >>> key = training_key(linear_model.LinearRegression(), X, [0.0, 1.0], 1)
    >>> key == training_key(linear_model.LinearRegression(), X, [0.0, 1.0], 1), key == training_key(
    ...     linear_model.LinearRegression(), X, [0.0, 2.0], 1)
    (True, False)
    """
    get_params = getattr(model, "_get_params", None)
    if not callable(get_params) or not _seeded(get_params()):
        return None
    try:
        blob = pickle.dumps((model, X, y, epochs), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None  # a model or data that does not pickle (a lambda...): trained anew
    return hashlib.blake2b(blob, digest_size=20).hexdigest()


def recall(key: str | None):
    """A copy of the model trained under ``key`` and the seconds its training took, or None.

    Parameters
    ----------
    key
        A :func:`training_key` (None: nothing to recall).

    Examples
    --------
    >>> recall(None) is None
    True
    """
    entry = _TRAINED.get(key) if key is not None else None
    if entry is None:
        return None
    _TRAINED.move_to_end(key)
    return copy.deepcopy(entry[0]), entry[1]


def remember(key: str | None, model, seconds: float) -> None:
    """Keep a copy of ``model``, trained under ``key`` in ``seconds`` (the last 64 are kept).

    Parameters
    ----------
    key
        Its :func:`training_key` (None: nothing is kept).
    model
        The trained model.
    seconds
        The training's compute seconds.

    Examples
    --------
    >>> remember("example", {"weights": [1.0]}, 0.25)
    >>> model, seconds = recall("example")
    >>> model, seconds, model is recall("example")[0]
    ({'weights': [1.0]}, 0.25, False)
    """
    if key is None:
        return
    _TRAINED[key] = (copy.deepcopy(model), seconds)
    while len(_TRAINED) > _SIZE:
        _TRAINED.popitem(last=False)
