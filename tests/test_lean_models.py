"""The lean models (deployment_modes/lean.py) learn and predict as scikit-learn's, checks included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

from deployment_modes.lean import LeanSGDClassifier


def batches(seed: int, n: int = 6):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        X = rng.normal(size=(50, 4))
        yield X, (X[:, 0] + 0.3 * rng.normal(size=50) > 0).astype(int)


@pytest.mark.parametrize("seed", range(3))
def test_the_lean_step_gives_scikit_learns_coefficients_also_after_set_params(seed):
    lean, usual = LeanSGDClassifier(random_state=seed), SGDClassifier(random_state=seed)
    for i, (X, y) in enumerate(batches(seed)):
        if i == 3:
            for model in (lean, usual):
                model.set_params(alpha=0.01, learning_rate="constant", eta0=0.05)
        for model in (lean, usual):
            model.partial_fit(X, y, classes=[0, 1] if i == 0 else None)
    assert np.array_equal(lean.coef_, usual.coef_) and np.array_equal(
        lean.intercept_, usual.intercept_
    )


def test_a_label_outside_the_classes_is_refused_as_by_scikit_learn_and_changes_nothing():
    (X, y), *_ = batches(0)
    lean = LeanSGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])
    lean.partial_fit(X, y)
    before = lean.coef_.copy()
    with pytest.raises(ValueError, match="classes should include all valid labels"):
        lean.partial_fit(X, np.where(y == 1, 5, 0))
    assert np.array_equal(lean.coef_, before)


def test_the_same_classes_again_take_the_lean_step_with_scikit_learns_coefficients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] > 0).astype(int)
    lean, usual = LeanSGDClassifier(random_state=4), SGDClassifier(random_state=4)
    for model in (lean, usual):
        for start in range(0, 600, 100):
            model.partial_fit(X[start : start + 100], y[start : start + 100], classes=[1, 0])
    assert (lean.coef_ == usual.coef_).all() and lean.t_ == usual.t_
    with pytest.raises(ValueError, match="not the same as on last call"):
        lean.partial_fit(X[:10], y[:10], classes=[0, 2])


@pytest.mark.parametrize("sparse", [False, True])
def test_many_classes_learn_as_scikit_learns_one_class_after_the_other(sparse):
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(400, 12)), rng.integers(0, 4, 400)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    lean, usual = LeanSGDClassifier(random_state=2), SGDClassifier(random_state=2)
    for model in (lean, usual):
        for start in range(0, 400, 40):
            model.partial_fit(X[start : start + 40], y[start : start + 40], classes=[0, 1, 2, 3])
    assert (lean.coef_ == usual.coef_).all() and (lean.intercept_ == usual.intercept_).all()
    assert (lean.predict(X) == usual.predict(X)).all()
    fitted = LeanSGDClassifier(random_state=3, average=True).fit(X, y)
    assert (fitted.coef_ == SGDClassifier(random_state=3, average=True).fit(X, y).coef_).all()


def test_the_lean_neighbours_predict_as_scikit_learns_without_building_a_tree():
    from sklearn.neighbors import KNeighborsRegressor

    from deployment_modes.lean_neighbors import LeanKNeighborsRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 5)), rng.normal(size=300)
    lean = LeanKNeighborsRegressor(n_neighbors=10).fit(X, y)
    usual = KNeighborsRegressor(n_neighbors=10).fit(X, y)
    assert lean.algorithm == "auto" and np.allclose(lean.predict(X[:50]), usual.predict(X[:50]))
    assert lean.predict_row(list(X[0])) == lean.predict(X[:1])[0]


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge", "Lasso", "ElasticNet"])
def test_a_deployment_serves_a_plain_linear_regressor_one_product_per_row_with_its_predictions(
    name,
):
    """Bit for bit scikit-learn's predict, float rows and int rows; other models keep their own."""
    import pandas as pd
    import sklearn.linear_model

    import deployment_modes as dm
    from deployment_modes.lean import linear_row_predictor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)
    model = getattr(sklearn.linear_model, name)().fit(X, y)
    predict = linear_row_predictor(model, 3)
    rows = [*rng.normal(size=(50, 3)).tolist(), [1, -2, 3], [0, 0, 0]]
    assert [predict(row) for row in rows] == [model.predict(np.array([row]))[0] for row in rows]
    assert type(predict(rows[0])) is float
    assert linear_row_predictor(model, 4) is None  # another width: scikit-learn's own error
    for other in (sklearn.linear_model.LogisticRegression(), object(), None):
        assert linear_row_predictor(other, 3) is None

    deployment = dm.BatchDeployment(getattr(sklearn.linear_model, name)())
    deployment.fit_initial(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    assert linear_row_predictor(deployment.model, 3) is not None  # the path served below
    served = [deployment.predict_one(dict(zip("abc", row))) for row in rows]
    assert served == [deployment.model.predict(np.array([row]))[0] for row in rows]
