"""The lean partial_fit (deployment_modes/sgd_partial.py) gives scikit-learn's SGD model, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

import deployment_modes as dm
from deployment_modes.sgd_partial import partial_fit


def same(a: SGDClassifier, b: SGDClassifier) -> bool:
    return (
        np.array_equal(a.coef_, b.coef_)
        and np.array_equal(a.intercept_, b.intercept_)
        and a.t_ == b.t_
        and a.n_iter_ == b.n_iter_
    )


def chunks(seed: int, n_classes: int, sparse: bool, n: int = 5):
    rng = np.random.default_rng(seed)
    labels = np.array(["sports", "music", "science", "art", "food"][:n_classes], dtype=object)
    for _ in range(n):
        X = rng.normal(size=(40, 30)) * (rng.random((40, 30)) < 0.3)
        y = labels[rng.integers(0, n_classes, 40)]
        yield (sp.csr_matrix(X) if sparse else X), y


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "params",
    [{}, {"loss": "log_loss"}, {"penalty": "elasticnet", "learning_rate": "constant", "eta0": 0.1}],
)
def test_the_lean_step_gives_scikit_learns_model(n_classes, sparse, params):
    for seed in range(3):
        lean, usual = (
            SGDClassifier(random_state=seed, **params),
            SGDClassifier(random_state=seed, **params),
        )
        classes = ["sports", "music", "science", "art", "food"][:n_classes]
        for i, (X, y) in enumerate(chunks(seed, n_classes, sparse)):
            if i == 3:  # new settings: scikit-learn's own partial_fit checks them
                for model in (lean, usual):
                    model.set_params(alpha=0.01)
            partial_fit(lean, X, y, classes=classes if i % 2 == 0 else None)
            usual.partial_fit(X, y, classes=classes if i % 2 == 0 else None)
            assert same(lean, usual)


def test_what_the_lean_step_does_not_cover_goes_through_scikit_learn():
    (X, y), *_ = chunks(0, 5, sparse=False)
    lean = partial_fit(SGDClassifier(random_state=0), X, y, classes=sorted(set(y)))
    with pytest.raises(ValueError, match="not the same as on last call"):
        partial_fit(lean, X, y, classes=["a", "b"])
    with pytest.raises(ValueError, match="NaN"):
        partial_fit(lean, np.where(X > 1, np.nan, X), y)
    classes = sorted(set(y))  # averaging: scikit-learn's own partial_fit, in the trainer too
    trainer = dm.OutOfCoreTrainer(SGDClassifier(random_state=0, average=True), classes=classes)
    usual = SGDClassifier(random_state=0, average=True)
    trainer.fit([(X, y)] * 3)
    for _ in range(3):
        usual.partial_fit(X, y, classes=classes)
    assert same(trainer.model, usual)


def test_a_model_fitted_on_dataframes_takes_the_lean_step_with_scikit_learns_checks(monkeypatch):
    """Float64 columns named as at fit: the lean step, the same model; anything else: scikit-learn's."""
    import pandas as pd

    from deployment_modes import sgd_partial

    taken = []
    step = sgd_partial.lean_step
    monkeypatch.setattr(sgd_partial, "lean_step", lambda *a: taken.append(1) or step(*a))
    names = [f"x{i}" for i in range(30)]
    for n_classes in (2, 5):
        taken.clear()
        lean, usual = SGDClassifier(random_state=1), SGDClassifier(random_state=1)
        classes = ["sports", "music", "science", "art", "food"][:n_classes]
        for X, y in chunks(1, n_classes, sparse=False):
            frame = pd.DataFrame(X, columns=names)
            partial_fit(lean, frame, y, classes=classes)
            usual.partial_fit(frame, y, classes=classes)
            assert same(lean, usual)
        assert len(taken) == 4  # every chunk after the first
    (X, y), *_ = chunks(2, 5, sparse=False)
    before = len(taken)
    with pytest.raises(ValueError, match="feature names"):  # reordered: scikit-learn refuses
        partial_fit(lean, pd.DataFrame(X, columns=names[::-1]), y)
    with pytest.warns(UserWarning, match="feature names"):  # no names: scikit-learn warns
        partial_fit(lean, X, y)
        usual.partial_fit(X, y)
    integers = pd.DataFrame((10 * X).astype(np.int64), columns=names)  # converted by check_array
    partial_fit(lean, integers, y)
    usual.partial_fit(integers, y)
    assert same(lean, usual) and len(taken) == before


def test_the_trainer_takes_the_lean_step_and_gives_the_plain_loops_model(corpus):
    """The chapter's check: the trainer's model is the plain loop of scikit-learn's partial_fit."""
    classes, hasher = list(corpus.topics), dm.HashedText()
    plain = SGDClassifier(random_state=2)
    for X, y in dm.read_chunks(corpus.files[:2], "topic", chunk_rows=250):
        plain.partial_fit(hasher.transform(X), y, classes=classes)
    trainer = dm.OutOfCoreTrainer(SGDClassifier(random_state=2), classes=classes, transform=hasher)
    trainer.fit(dm.read_chunks(corpus.files[:2], "topic", chunk_rows=250))
    assert same(trainer.model, plain) and type(trainer.model) is SGDClassifier


def test_the_pinned_scikit_learn_is_a_checked_one_and_any_other_takes_scikit_learns_own_steps(
    monkeypatch,
):
    """A new pin in constraints.txt fails here until this file's tests have run against it."""
    from pathlib import Path

    from deployment_modes import lean, sgd_partial

    pins = Path(__file__).resolve().parents[1].joinpath("constraints.txt").read_text()
    pinned = next(
        line.split("==")[1] for line in pins.splitlines() if line.startswith("scikit-learn==")
    )
    assert ".".join(pinned.split(".")[:2]) in sgd_partial.CHECKED_SKLEARN
    monkeypatch.setattr(sgd_partial, "STEPS_CHECKED", False)
    monkeypatch.setattr(lean, "STEPS_CHECKED", False)
    for module in (sgd_partial, lean):  # never called: a call would fail
        monkeypatch.setattr(module, "lean_step", None)
    for cls in (SGDClassifier, dm.LeanSGDClassifier):
        model, usual = cls(random_state=0), SGDClassifier(random_state=0)
        classes = ["sports", "music", "science", "art", "food"]
        for X, y in chunks(0, 5, sparse=False):
            partial_fit(model, X, y, classes=classes)
            usual.partial_fit(X, y, classes=classes)
        assert same(model, usual)
