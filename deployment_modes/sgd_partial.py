"""scikit-learn's ``SGDClassifier.partial_fit`` after the first call, without its fixed per-call cost.

Each ``partial_fit`` of a one-versus-rest SGD classifier checks its settings and input again,
builds a ``numpy.random.RandomState`` per class (each seeded first from the system) and runs
the classes through joblib, one after the other. On a chunk of a few hundred documents that
costs about as much as the learning itself. :func:`partial_fit` takes scikit-learn's own
per-class step (``fit_binary``) for each class in turn, with the seeds scikit-learn would draw,
drawn from one kept generator re-seeded for each: the same coefficients, bit for bit
(``tests/test_sgd_partial.py`` compares them). Whatever it does not cover (the first call, new
settings, sample or class weights, averaging, early stopping, a label outside the classes,
input scikit-learn would convert) goes through scikit-learn's ``partial_fit``, checks included.
:class:`~deployment_modes.lean.LeanSGDClassifier` takes the same steps.

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numbers
import threading

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import SGDClassifier

#: The scikit-learn versions whose SGD internals ``tests/test_sgd_partial.py`` checked these steps
#: against; with any other, every step is scikit-learn's own ``partial_fit``.
CHECKED_SKLEARN = ("1.9",)
STEPS_CHECKED = ".".join(sklearn.__version__.split(".")[:2]) in CHECKED_SKLEARN
if STEPS_CHECKED:
    from sklearn.linear_model._stochastic_gradient import MAX_INT, fit_binary

__all__ = ["partial_fit"]

_PARAMS = SGDClassifier._get_param_names()  # get_params() finds them by inspection, at every call
_GENERATORS = threading.local()  # one generator per thread, re-seeded for each draw


def reseeded(seed) -> np.random.RandomState:
    """``numpy.random.RandomState(seed)``'s state, in this thread's kept generator.

    scikit-learn builds a ``RandomState`` per class at every fit, which first seeds a throwaway
    generator from the system (0.2 ms, more than a small step); re-seeding a kept one gives the
    same state in microseconds, so the same draws.
    """
    generator = getattr(_GENERATORS, "generator", None)
    if generator is None:
        generator = _GENERATORS.generator = np.random.RandomState()
    generator.seed(seed)
    return generator


def partial_fit(model, X, y, classes=None):
    """``model.partial_fit(X, y, classes=classes)``: the same model, leaner where it can be.

    Parameters
    ----------
    model
        Any estimator with ``partial_fit`` (called as it is); a scikit-learn ``SGDClassifier``
        (exactly that class) takes the lean step once fitted.
    X, y
        The chunk's features (a float array, a CSR matrix or a DataFrame) and labels.
    classes
        Every label (scikit-learn checks them at the first call).

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 2])
    >>> lean, usual = SGDClassifier(random_state=0), SGDClassifier(random_state=0)
    >>> for _ in range(3):
    ...     _ = partial_fit(lean, X, y, classes=[0, 1, 2]), usual.partial_fit(X, y, classes=[0, 1, 2])
    >>> bool((lean.coef_ == usual.coef_).all() and lean.t_ == usual.t_)
    True
    """
    if type(model) is SGDClassifier:
        features = lean_features(model, X, y, classes)
        if features is not None:
            return lean_step(model, features, y)
    model.partial_fit(X, y, **({} if classes is None else {"classes": classes}))
    if type(model) is SGDClassifier:
        remember_settings(model)
    return model


def remember_settings(model) -> None:
    """Record ``model``'s settings as scikit-learn has just checked them (in its ``partial_fit``)."""
    model._lean_params = {name: getattr(model, name) for name in _PARAMS}


def lean_step(model, X, y):
    """One ``partial_fit`` step of a fitted SGD classifier, as scikit-learn takes it after its checks."""
    n_rows, n_classes = X.shape[0], len(model.classes_)
    model._loss_function_ = model._get_loss_function(model.loss)
    args = (X, y, model.alpha, model.learning_rate, 1)
    if n_classes == 2:  # as scikit-learn's _fit_binary: the second class against the first
        coef, intercept, n_iter = fit_binary(
            model, 1, *args, 1.0, 1.0, np.ones(n_rows), random_state=reseeded(model.random_state)
        )
        model.coef_, model.intercept_ = coef.reshape(1, -1), np.atleast_1d(intercept)
    else:  # no early stopping: no validation rows
        validation = np.zeros(n_rows, dtype=np.bool_)
        n_iter = one_versus_rest(model, *args, np.ones(n_classes), np.ones(n_rows), validation)
    model.t_ += n_iter * n_rows
    model.n_iter_ = n_iter
    return model


def one_versus_rest(
    model, X, y, alpha, learning_rate, max_iter, class_weights, sample_weight, validation
):
    """scikit-learn's one-versus-rest fit (its ``_fit_multiclass``), each class in turn in this thread.

    Each class's generator is made by re-seeding the kept one (:func:`reseeded`), with the seeds
    scikit-learn draws from ``model.random_state`` (an int): the same draws, the same model.
    Sets each class's coefficients and intercept; returns the most epochs a class took.
    """
    seeds = reseeded(model.random_state).randint(MAX_INT, size=len(model.classes_))
    n_iter = 0.0
    for i, seed in enumerate(seeds):
        _, model.intercept_[i], n_iter_i = fit_binary(
            model,
            i,
            X,
            y,
            alpha,
            learning_rate,
            max_iter,
            class_weights[i],
            1.0,
            sample_weight,
            validation_mask=validation,
            random_state=reseeded(seed),
        )
        n_iter = max(n_iter, n_iter_i)
    return n_iter


def lean_features(model, X, y, classes):
    """The array scikit-learn's checks would pass on to its SGD steps for ``X`` and ``y``, or None.

    ``X`` passes as it is (a C-ordered float64 array or CSR matrix of finite numbers), or, for a
    model fitted on a DataFrame, as the numbers of a DataFrame of float64 columns named as at
    fit: what scikit-learn's ``check_array`` makes of it. None when scikit-learn would check,
    convert, warn or refuse: its own ``partial_fit`` must run.
    """
    known = getattr(model, "classes_", None)
    if not STEPS_CHECKED or known is None or getattr(model, "coef_", None) is None:
        return None
    if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
        return None
    if getattr(model, "_lean_params", None) != {name: getattr(model, name) for name in _PARAMS}:
        return None  # first call, or set_params since: scikit-learn checks the settings
    if (
        not isinstance(model.random_state, numbers.Integral)
        or model.class_weight is not None
        or model.average
        or model.early_stopping
        or type(y) is not np.ndarray
        or y.ndim != 1
        or X.shape != (len(y), model.coef_.shape[-1])
        or X.shape[0] == 0
    ):
        return None
    names = getattr(model, "feature_names_in_", None)
    if names is not None:  # fitted on a DataFrame: the same columns, all float64
        if not (
            isinstance(X, pd.DataFrame)
            and X.columns.tolist() == names.tolist()
            and all(dtype == np.float64 for dtype in X.dtypes)
        ):
            return None
        X = np.ascontiguousarray(X.to_numpy(copy=False))  # as check_array orders it
    if sp.issparse(X):
        fits = (
            X.format == "csr"
            and X.dtype == np.float64
            and X.indices.dtype == np.int32
            and X.indptr.dtype == np.int32
            and bool(np.isfinite(X.data).all())
        )
    else:
        fits = (
            type(X) is np.ndarray
            and X.dtype == np.float64
            and X.flags.c_contiguous
            and bool(np.isfinite(X).all())
        )
    return X if fits and bool(np.isin(y, known).all()) else None
