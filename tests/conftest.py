"""The chapters' scenarios, built once per test session and shared by the tests of every chapter.

Same sizes and seeds as the chapters (book/*.ipynb): a claim asserted here is a claim of the book.
Scenarios are never changed by a test (deployments and ``simulate`` only read them).
"""

import pytest
from sklearn.linear_model import SGDClassifier

import deployment_modes as dm

# tests/data holds submissions for the autograder (tests/test_assignments.py grades them), not
# notebooks for nbval to execute
collect_ignore_glob = ["data/*.ipynb"]

# the out-of-core chapter's corpus: the same sizes and seed as book/out_of_core.ipynb
N_DOCS, N_FILES, CHUNK = 20_000, 8, 2_500


@pytest.fixture(scope="session")
def drifting_stream():
    """The drifting classification stream of the batch, online and comparison chapters."""
    return dm.scenarios.drifting_classification(seed=0)


@pytest.fixture(scope="session")
def poisoned_stream(drifting_stream):
    """The online chapter's stream and its copy with 300 wrong labels from event 800: ``(clean, poisoned)``."""
    return drifting_stream, dm.scenarios.poison_labels(drifting_stream, start=800, length=300)


@pytest.fixture(scope="session")
def house_sales():
    """The house prices of the batch chapter (a stable problem)."""
    return dm.scenarios.house_prices(seed=0)


@pytest.fixture(scope="session")
def movies():
    """The movie catalogue of the batch and online chapters (new titles after deployment)."""
    return dm.scenarios.movie_catalogue(seed=0)


@pytest.fixture(scope="session")
def apple_prices():
    """Apple's daily prices of the online chapter."""
    return dm.scenarios.stock_prices("apple", lags=5, n_initial=450)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The out-of-core chapter's text corpus, in mixed order, written once."""
    return dm.corpus.write_corpus(
        tmp_path_factory.mktemp("mixed"), n_docs=N_DOCS, n_files=N_FILES, seed=0
    )


@pytest.fixture(scope="session")
def sorted_corpus(tmp_path_factory):
    """The out-of-core chapter's corpus sorted by topic (order dependence)."""
    return dm.corpus.write_corpus(
        tmp_path_factory.mktemp("sorted"), n_docs=8_000, n_files=N_FILES, order="by_topic", seed=0
    )


@pytest.fixture(scope="session")
def holdout(corpus):
    """The corpus's test file, as one ``(X, y)`` chunk."""
    return next(iter(dm.read_chunks(corpus.test, "topic", chunk_rows=10**6)))


@pytest.fixture(scope="session")
def trained(corpus, holdout):
    """The chapter's out-of-core training: SGD on the hashed corpus, chunk by chunk."""
    trainer = dm.OutOfCoreTrainer(
        SGDClassifier(random_state=0),
        classes=list(corpus.topics),
        transform=dm.HashedText(),
        holdout=holdout,
    )
    return trainer.fit(dm.read_chunks(corpus.train, "topic", chunk_rows=CHUNK))


def guarded(model, *, checkpoint_every=None, max_pause=None, gate=None):
    """An online deployment with the guardrails asked for (monitored if any), composed as the chapter does."""
    monitored = any(v is not None for v in (checkpoint_every, max_pause, gate))
    dep = dm.OnlineDeployment(model, monitor=monitored)
    if checkpoint_every is not None:
        dep = dm.Rollback(dep, checkpoint_every=checkpoint_every)
    if max_pause is not None:
        dep = dm.Pause(dep, max_pause=max_pause)
    if gate is not None:
        dep = dm.ValidationGate(dep, every=gate)
    return dep
