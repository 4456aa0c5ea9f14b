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

Defined in the Out-of-core learning chapter (``book/out_of_core.ipynb``).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier
from sklearn.linear_model._stochastic_gradient import MAX_INT, fit_binary

__all__ = ["partial_fit"]

_PARAMS = SGDClassifier._get_param_names()  # get_params() finds them by inspection, at every call
_GENERATOR = (
    np.random.RandomState()
)  # re-seeded for each draw: numpy.random.RandomState(seed)'s state


def _reseeded(seed) -> np.random.RandomState:
    _GENERATOR.seed(seed)
    return _GENERATOR


def _params(model) -> dict:
    return {name: getattr(model, name) for name in _PARAMS}


def partial_fit(model, X, y, classes=None):
    """``model.partial_fit(X, y, classes=classes)``: the same model, leaner where it can be.

    Parameters
    ----------
    model
        Any estimator with ``partial_fit`` (called as it is); a scikit-learn ``SGDClassifier``
        (exactly that class) takes the lean step once fitted.
    X, y
        The chunk's features (a float array or CSR matrix) and labels.
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
    if not _lean_step_fits(model, X, y, classes):
        model.partial_fit(X, y, **({} if classes is None else {"classes": classes}))
        if type(model) is SGDClassifier:
            model._lean_params = _params(model)  # checked by scikit-learn, as they are now
        return model
    n_rows, n_classes = X.shape[0], len(model.classes_)
    model._loss_function_ = model._get_loss_function(model.loss)
    args = (X, y, model.alpha, model.learning_rate, 1, 1.0, 1.0, np.ones(n_rows))
    if n_classes == 2:  # as scikit-learn's _fit_binary: the second class against the first
        coef, intercept, n_iter = fit_binary(
            model, 1, *args, random_state=_reseeded(model.random_state)
        )
        model.coef_, model.intercept_ = coef.reshape(1, -1), np.atleast_1d(intercept)
    else:  # as its _fit_multiclass: each class against the rest, in turn, with its own seed
        validation = np.zeros(n_rows, dtype=np.bool_)  # no early stopping: no validation rows
        seeds = _reseeded(model.random_state).randint(MAX_INT, size=n_classes)
        n_iter = 0.0
        for i, seed in enumerate(seeds):
            _, model.intercept_[i], n_iter_i = fit_binary(
                model, i, *args, validation_mask=validation, random_state=_reseeded(seed)
            )
            n_iter = max(n_iter, n_iter_i)
    model.t_ += n_iter * n_rows
    model.n_iter_ = n_iter
    return model


def _lean_step_fits(model, X, y, classes) -> bool:
    """Whether scikit-learn's checks would pass ``X`` and ``y`` through unchanged to its SGD steps."""
    known = getattr(model, "classes_", None)
    if type(model) is not SGDClassifier or known is None or getattr(model, "coef_", None) is None:
        return False
    if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
        return False
    if getattr(model, "_lean_params", None) != _params(model):
        return False  # first call, or set_params since: scikit-learn checks the settings
    if (
        not isinstance(model.random_state, numbers.Integral)
        or model.class_weight is not None
        or model.average
        or model.early_stopping
        or hasattr(model, "feature_names_in_")
        or type(y) is not np.ndarray
        or y.ndim != 1
        or X.shape != (len(y), model.coef_.shape[-1])
        or X.shape[0] == 0
    ):
        return False
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
    return fits and bool(np.isin(y, known).all())
