"""river's scaled logistic and linear regressions stepped in fewer calls: the same numbers, bit for bit.

:func:`~deployment_modes.sgd_model` is river's ``StandardScaler() | LogisticRegression(optimizer=SGD(lr))``
(``LinearRegression`` for a regression).
Served one event at a time, most of its cost is river's dispatch (the pipeline's plan, the
classifier's probabilities, the loss, the optimizer and its masked weights) rather than its
arithmetic. For such a pipeline (:func:`fits`), :func:`predict_one` and :func:`learn_one` call the
scaler's own ``transform_one`` and ``learn_one``, then do the regression's arithmetic on
its own weights, intercept and optimizer, with river's expressions in river's order: the
predictions and the model's state are river's, bit for bit (``tests/test_sgd_step.py`` compares
them on streams, extreme values included). Where a setting differs from what this code does
(another loss, a penalty, a scheduler), the step is river's own.
:class:`~deployment_modes.incremental.IncrementalModel` steps such a model with them.

Defined in the Online learning chapter (``book/online.ipynb``).
"""

from __future__ import annotations

import math

import river
from river import compose, linear_model, optim, preprocessing
from river.utils.vectordict import VectorDict

__all__ = [
    "fits",
    "learn_one",
    "learn_scaled",
    "predict_one",
    "predict_scaled",
    "scaler_learn_transform",
]

#: The river versions whose internals ``tests/test_sgd_step.py`` checked these steps against;
#: with any other, every step is river's own.
CHECKED_RIVER = ("0.26",)
STEPS_CHECKED = ".".join(river.__version__.split(".")[:2]) in CHECKED_RIVER

_exp = math.exp
_Constant = optim.schedulers.Constant
_Log = optim.losses.Log
_Squared = optim.losses.Squared
#: The linear models stepped here, each with the one loss whose arithmetic this code does.
_LOSSES = {linear_model.LogisticRegression: _Log, linear_model.LinearRegression: _Squared}


def fits(model) -> bool:
    """Whether ``model`` is a pipeline :func:`predict_one` and :func:`learn_one` step as river does.

    A ``StandardScaler`` (with ``with_std``, no window) then a ``LogisticRegression`` (log loss)
    or a ``LinearRegression`` (squared loss) trained by plain ``SGD`` at a constant learning
    rate, with no penalty and zero-initialised weights: the settings of
    :func:`~deployment_modes.sgd_model`.

    Parameters
    ----------
    model
        Any model.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> from river import linear_model
    >>> fits(dm.sgd_model("classification", 0.05)), fits(linear_model.LogisticRegression())
    (True, False)
    >>> fits(dm.sgd_model("regression", 0.05))
    True
    """
    if not STEPS_CHECKED or type(model) is not compose.Pipeline or len(model.steps) != 2:
        return False
    scaler, lr = model.steps.values()
    return (
        type(scaler) is preprocessing.StandardScaler
        and hasattr(scaler, "window_size")
        and type(lr) in _LOSSES
        and type(getattr(lr, "_weights", None)) is VectorDict
        and type(lr.initializer) is optim.initializers.Zeros
        and _settings_fit(scaler, lr)
    )


def _settings_fit(scaler, lr) -> bool:
    """The settings that :func:`learn_one` reads at every event: river's own step if one changed."""
    optimizer = lr.optimizer
    return (
        scaler.with_std is True
        and scaler.window_size is None
        and type(optimizer) is optim.SGD
        and type(optimizer.lr) is _Constant
        and type(lr.intercept_lr) is _Constant
        and type(lr.loss) is _LOSSES.get(type(lr))
        and not lr.l2
        and lr.l1 == 0.0
    )


def predict_one(model, x: dict):
    """``model.predict_one(x)`` for a model that :func:`fits`: the same label, in fewer calls.

    Parameters
    ----------
    model
        A pipeline that :func:`fits`.
    x
        The event's features.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> model = dm.sgd_model("classification", 0.05)
    >>> model.learn_one({"x0": 1.0}, True); model.learn_one({"x0": 3.0}, False)
    >>> predict_one(model, {"x0": 0.0}), model.predict_one({"x0": 0.0})
    (True, True)
    """
    scaler, lr = model.steps.values()
    loss = type(lr.loss)
    if compose.Pipeline._LEARN_UNSUPERVISED_DURING_PREDICT or loss is not _LOSSES.get(type(lr)):  # noqa: SLF001
        return model.predict_one(x)
    return predict_scaled(lr, scaler.transform_one(x))


def predict_scaled(lr, x: dict):
    """The regression ``lr``'s prediction for the features ``x`` its scaler has transformed.

    The second half of :func:`predict_one`.

    Parameters
    ----------
    lr
        The ``LogisticRegression`` (or ``LinearRegression``) step of a pipeline that :func:`fits`.
    x
        The event's features, as the pipeline's scaler transformed them.
    """
    raw = lr._weights.dot(x) + lr.intercept  # noqa: SLF001
    if type(lr.loss) is _Squared:  # the squared loss's mean_func is the identity
        return raw
    # the loss's mean_func (river's sigmoid), then the likelier of {False: 1 - p, True: p}
    p = 0 if raw < -30 else 1 if raw > 30 else 1 / (1 + _exp(-raw))
    return p > 1.0 - p


def learn_one(model, x: dict, y) -> None:
    """``model.learn_one(x, y)`` for a model that :func:`fits`: the same state after it, in fewer calls.

    Parameters
    ----------
    model
        A pipeline that :func:`fits`.
    x
        The event's features.
    y
        Its label.

    Examples
    --------
    >>> import deployment_modes as dm
    >>> ours, rivers = dm.sgd_model("classification", 0.05), dm.sgd_model("classification", 0.05)
    >>> for x, y in [({"x0": 1.0}, True), ({"x0": 3.0}, False)]:
    ...     learn_one(ours, x, y); rivers.learn_one(x, y)
    >>> ours["LogisticRegression"].weights == rivers["LogisticRegression"].weights
    True
    """
    scaler, lr = model.steps.values()
    if compose.Pipeline._LEARN_UNSUPERVISED_DURING_PREDICT or not _settings_fit(scaler, lr):  # noqa: SLF001
        model.learn_one(x, y)
        return
    learn_scaled(lr, scaler_learn_transform(scaler, x), y)


def learn_scaled(lr, x: dict, y) -> None:
    """The regression ``lr``'s step on the features ``x`` its scaler has learned and transformed.

    The second half of :func:`learn_one` (the first is :func:`scaler_learn_transform`).

    Parameters
    ----------
    lr
        The ``LogisticRegression`` (or ``LinearRegression``) step of a pipeline that :func:`fits`.
    x
        The event's features, as :func:`scaler_learn_transform` gave them.
    y
        Its label.
    """
    # river's GLM.learn_one: weights masked by x, the loss's gradient clipped, then the
    # intercept's step and SGD's step on the weights (look_ahead is SGD's no-op; no penalty)
    optimizer = lr.optimizer
    weights = VectorDict(lr._weights, lr.initializer, x)  # noqa: SLF001
    raw = weights.dot(x) + lr.intercept
    loss = lr.loss
    if type(loss) is _Squared:
        gradient = 2 * (raw - y)  # Squared.gradient(y, raw)
    else:  # Log.gradient(y, raw)
        if y == 0:
            sign, weight = -1, loss.weight_neg
        else:
            sign, weight = int(y), loss.weight_pos
        z = raw * sign
        if z > 18.0:
            gradient = weight * _exp(-z) * -sign
        elif z < -18.0:
            gradient = weight * -sign
        else:
            gradient = weight * -sign / (_exp(z) + 1.0)
    gradient *= 1.0  # the sample weight
    clip = lr.clip_gradient  # max(min(gradient, clip), -clip): the comparisons min and max make
    if clip < gradient:
        gradient = clip
    if -clip > gradient:
        gradient = -clip
    gradient = float(gradient)
    n = optimizer.n_iterations
    lr.intercept -= lr.intercept_lr.get(n) * gradient
    weights.isub_scaled(VectorDict.from_scaled(x, gradient), optimizer.lr.get(n))
    optimizer.n_iterations = n + 1


def scaler_learn_transform(scaler, x: dict) -> dict:
    """``scaler.learn_one(x)`` then ``scaler.transform_one(x)``, in one pass: river's expressions.

    Each feature's statistics and scaled value depend on that feature alone, so updating and
    scaling feature by feature gives the same numbers, and the same dicts, as the two passes.

    Parameters
    ----------
    scaler
        The ``StandardScaler`` step of a pipeline that :func:`fits`.
    x
        The event's features.
    """
    counts, means, variances, scaled = scaler.counts, scaler.means, scaler.vars, {}
    for i, xi in x.items():
        counts[i] = n = counts[i] + 1
        old_mean = means[i]
        means[i] = mean = old_mean + (xi - old_mean) / n
        var = variances[i]
        variances[i] = var = var + ((xi - old_mean) * (xi - mean) - var) / n
        scaled[i] = (xi - mean) / var**0.5 if var else 0.0
    return scaled
