import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import CHUNK, N_DOCS, N_FILES  # the chapter's corpus (tests/conftest.py)
from hypothesis import given, settings
from hypothesis import strategies as st
from river import linear_model as river_linear
from river import metrics
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import IncrementalPCA
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.naive_bayes import MultinomialNB

import deployment_modes as dm
from deployment_modes.chunk_learning import check_chunk, score_model

SEEDS = range(5)  # the chapter's seeds for every comparison


@pytest.fixture(scope="module")
def sorted_corpus(tmp_path_factory):
    """The chapter's topic-sorted corpus at its default size (2,000 documents; conftest's is larger)."""
    return dm.corpus.write_corpus(
        tmp_path_factory.mktemp("sorted"), n_docs=2_000, n_files=N_FILES, order="by_topic", seed=0
    )


def plain_loop(model, chunks, transform=None, classes=None):
    for X, y in chunks:
        Xt = X if transform is None else transform.transform(X)
        if classes is not None:
            model.partial_fit(Xt, y, classes=classes)
        else:
            model.partial_fit(Xt, y)
    return model


def test_the_corpus_is_seeded_and_labelled(tmp_path, corpus):
    again = dm.corpus.write_corpus(tmp_path, n_docs=N_DOCS, n_files=N_FILES, seed=0)
    assert [f.read_bytes() for f in again.files] == [f.read_bytes() for f in corpus.files]
    X, y = next(iter(dm.read_chunks(corpus.train, "topic", chunk_rows=N_DOCS)))
    assert len(X) == N_DOCS and set(y) == set(corpus.topics)
    words = X["text"].str.split().explode().value_counts()
    assert words.iloc[0] > 5 * words.iloc[50]  # Zipfian: a few words are very common


@pytest.mark.parametrize(
    "estimator", [SGDClassifier(random_state=0), MultinomialNB()], ids=["sgd", "nb"]
)
def test_the_trainer_gives_the_model_of_a_plain_partial_fit_loop(corpus, estimator):
    reader = dm.read_chunks(corpus.train, "topic", chunk_rows=CHUNK)
    hashed = dm.HashedText(n_features=2**12)
    trainer = dm.OutOfCoreTrainer(estimator, classes=list(corpus.topics), transform=hashed).fit(
        reader
    )
    by_hand = plain_loop(
        estimator.__class__(**estimator.get_params()), reader, hashed, list(corpus.topics)
    )
    for name in ("coef_", "intercept_", "feature_count_", "class_count_"):
        if hasattr(by_hand, name):
            np.testing.assert_array_equal(getattr(trainer.model, name), getattr(by_hand, name))
    assert trainer.estimator is estimator and not hasattr(
        estimator, "classes_"
    )  # the estimator is cloned


def numeric_chunks(seed=0, n=5, rows=40):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(rows, 3)), rng.integers(0, 2, rows)) for _ in range(n)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: MiniBatchKMeans(3, random_state=0, n_init=1),
        lambda: IncrementalPCA(2),
        lambda: SGDRegressor(random_state=0),
    ],
    ids=["kmeans", "ipca", "sgd-regressor"],
)
def test_other_partial_fit_estimators(make):
    chunks = numeric_chunks()
    trainer = dm.OutOfCoreTrainer(make()).fit(chunks)
    by_hand = make()
    for X, y in chunks:
        by_hand.partial_fit(X, y)
    name = next(n for n in ("cluster_centers_", "components_", "coef_") if hasattr(by_hand, n))
    np.testing.assert_array_equal(getattr(trainer.model, name), getattr(by_hand, name))


def test_river_mini_batches_with_learn_many():
    chunks = [(pd.DataFrame(X, columns=list("abc")), y.astype(bool)) for X, y in numeric_chunks()]
    trainer = dm.OutOfCoreTrainer(river_linear.LogisticRegression(), holdout=chunks[0]).fit(chunks)
    by_hand = river_linear.LogisticRegression()
    for X, y in chunks:
        by_hand.learn_many(X, pd.Series(y))
    assert trainer.model.weights == by_hand.weights
    assert 0 <= trainer.history["score"].iloc[-1] <= 1


def test_history_records_each_chunk(trained, holdout):
    trainer = trained
    h = trainer.history
    assert h["rows_seen"].tolist() == list(range(CHUNK, N_DOCS + 1, CHUNK))
    assert (h[["read_seconds", "learn_seconds", "chunk_mb", "rss_mb"]] > 0).all().all()
    assert h["peak_rss_mb"].is_monotonic_increasing
    assert h["score"].iloc[-1] > 0.85 and h["score"].iloc[-1] == pytest.approx(
        score_model(trainer.model, *holdout, dm.HashedText())
    )
    assert [e.kind for e in trainer.log] == ["train"] and trainer.log[0].rows == N_DOCS


def fit_sgd(source, topics, holdout, seed=0):
    trainer = dm.OutOfCoreTrainer(
        SGDClassifier(random_state=seed),
        classes=list(topics),
        transform=dm.HashedText(),
        holdout=holdout,
    )
    return trainer.fit(source).history["score"].iloc[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter_claim_order_dependence_on_every_seed(sorted_corpus, holdout, seed):
    """Topic-sorted files in file order give a near-chance model; shuffling (any buffer) fixes it."""
    small = (holdout[0].head(500), holdout[1][:500])
    in_order = fit_sgd(
        dm.read_chunks(sorted_corpus.train, "topic", chunk_rows=250),
        sorted_corpus.topics,
        small,
        seed,
    )
    assert in_order < 0.4
    for buffer in (None, 250, 1_000):  # the chapter's default buffer and the exercise's two
        shuffled = fit_sgd(
            dm.read_chunks(
                sorted_corpus.train,
                "topic",
                chunk_rows=250,
                shuffle=True,
                seed=seed,
                shuffle_buffer=buffer,
            ),
            sorted_corpus.topics,
            small,
            seed,
        )
        assert shuffled > in_order + 0.2


def test_chapter_claim_chunk_size_sets_the_memory_of_a_chunk(corpus, holdout):
    runs = {}
    for rows in (250, 1_000, 2_500):
        trainer = dm.OutOfCoreTrainer(
            SGDClassifier(random_state=0), classes=list(corpus.topics), transform=dm.HashedText()
        )
        runs[rows] = trainer.fit(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=rows)).history
    assert [len(h) for h in runs.values()] == [10, 3, 1]
    assert runs[2_500]["chunk_mb"].max() > 5 * runs[250]["chunk_mb"].max()


def test_exercise_the_loop_without_the_package_gives_the_trainers_model(corpus):
    import pyarrow.parquet as pq
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=2**16, alternate_sign=False, analyzer=str.split)
    mine = SGDClassifier(random_state=0)
    for path in sorted(corpus.train.glob("*.parquet")):
        chunk = pq.read_table(path).to_pandas()
        mine.partial_fit(
            vectorizer.transform(chunk["text"]), chunk["topic"], classes=list(corpus.topics)
        )
    trainer = dm.OutOfCoreTrainer(
        SGDClassifier(random_state=0), classes=list(corpus.topics), transform=dm.HashedText()
    )
    trainer.fit(dm.read_chunks(corpus.train, "topic", chunk_rows=CHUNK))
    assert np.array_equal(mine.coef_, trainer.model.coef_)


def test_exercise_naive_bayes_ignores_the_order(sorted_corpus):
    counts = []
    for shuffle in (False, True):
        trainer = dm.OutOfCoreTrainer(
            MultinomialNB(), classes=list(sorted_corpus.topics), transform=dm.HashedText()
        )
        trainer.fit(dm.read_chunks(sorted_corpus.train, "topic", chunk_rows=250, shuffle=shuffle))
        counts.append(trainer.model.feature_count_)
    assert np.allclose(*counts)


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter_claim_deploy_then_continue_online_on_a_drifted_stream(tmp_path, trained, seed):
    later = dm.corpus.write_corpus(
        tmp_path, n_docs=600, n_files=1, n_test=10, drift=0.5, seed=seed + 1
    )
    X, y = next(iter(dm.read_chunks(later.train, "topic", chunk_rows=600)))
    deployment = trained.to_online(batch_size=50)
    assert deployment.model is not trained.model and deployment.model_version == 1
    events = [({"text": t}, label) for t, label in zip(X["text"], y)]
    assert (
        deployment.predict_one(events[0][0])
        == trained.model.predict(dm.HashedText().transform(X.iloc[:1]))[0]
    )
    timeline = dm.simulate(events, deployment, metrics.Accuracy(), window=150)
    frozen = score_model(trained.model, X, y, dm.HashedText())
    assert frozen < trained.history["score"].iloc[-1] - 0.05  # the drift hurts the frozen model
    frozen_last = score_model(trained.model, X.tail(150), y[-150:], dm.HashedText())
    assert (
        timeline.window_score(450) > frozen_last
    )  # on the same documents, learning online does better
    assert deployment.model_version == 1 + 600 // 50 and [e.kind for e in timeline.log][:1] == [
        "train"
    ]
    assert not np.array_equal(deployment.model.coef_, trained.model.coef_)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's Parquet reader
def test_the_dask_path_gives_the_local_model(corpus):
    dd = pytest.importorskip("dask.dataframe")
    from deployment_modes.scale_out import fit_dask, local_cluster

    hashed = dm.HashedText(n_features=2**12)
    local = dm.OutOfCoreTrainer(
        SGDClassifier(random_state=0), classes=list(corpus.topics), transform=hashed
    )
    local.fit(dm.read_chunks(corpus.train, "topic", chunk_rows=CHUNK))
    with local_cluster(2, processes=False) as cluster:
        remote = dm.OutOfCoreTrainer(
            SGDClassifier(random_state=0), classes=list(corpus.topics), transform=hashed
        )
        fit_dask(remote, dd.read_parquet(str(corpus.train)), target="topic", scheduler=cluster)
    np.testing.assert_array_equal(remote.model.coef_, local.model.coef_)
    assert remote.history["rows"].tolist() == local.history["rows"].tolist()


def test_a_closed_local_cluster_prints_no_info_messages():
    """A closing cluster's last messages (``Batched Comm Closed`` and its traceback) came after Dask
    had put its console handler back to INFO, and landed in the notebook's output now and then.
    Run in a fresh process, where distributed's console handler is as a kernel has it."""
    pytest.importorskip("dask.distributed")
    script = (
        "import logging\n"
        "from deployment_modes.scale_out import local_cluster\n"
        "with local_cluster(1, processes=False):\n"
        "    pass\n"
        "logging.getLogger('distributed.batched').info('late INFO message')\n"
        "logging.getLogger('distributed.batched').warning('a warning')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "a warning" in done.stderr and "late INFO message" not in done.stderr


def test_bad_inputs_fail_before_training(corpus):
    with pytest.raises(TypeError, match="partial_fit"):
        dm.OutOfCoreTrainer(LogisticRegression(), classes=[0, 1])
    with pytest.raises(ValueError, match="classes"):
        dm.OutOfCoreTrainer(SGDClassifier())
    with pytest.raises(ValueError, match="classes"):
        dm.OutOfCoreTrainer(SGDClassifier(), classes=["a"])
    with pytest.raises(TypeError, match="transform"):
        dm.OutOfCoreTrainer(SGDClassifier(), classes=[0, 1], transform=3)
    with pytest.raises(TypeError, match="holdout"):
        dm.OutOfCoreTrainer(SGDClassifier(), classes=[0, 1], holdout=[1, 2, 3])
    trainer = dm.OutOfCoreTrainer(SGDClassifier(), classes=[0, 1])
    with pytest.raises(TypeError, match="chunks must be an iterable"):
        trainer.fit("data.csv")
    with pytest.raises(ValueError, match="empty"):
        trainer.fit([])
    with pytest.raises(RuntimeError, match="fit"):
        trainer.to_online()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_docs": 0}, ValueError, "n_docs"),
        ({"n_files": 50, "n_docs": 10}, ValueError, "n_files"),
        ({"n_topics": 99}, ValueError, "n_topics"),
        ({"drift": 1.5}, ValueError, "drift"),
        ({"order": "alphabetical"}, ValueError, "order"),
        ({"format": "json"}, ValueError, "format"),
    ],
)
def test_bad_corpus_settings_name_the_argument(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        dm.corpus.write_corpus(tmp_path, **kwargs)
    assert not any((tmp_path / "train").glob("*")) if (tmp_path / "train").exists() else True


def test_a_corpus_is_never_written_over_another(tmp_path):
    dm.corpus.write_corpus(tmp_path, n_docs=20, n_files=2, n_test=5)
    with pytest.raises(ValueError, match="already holds a corpus"):
        dm.corpus.write_corpus(tmp_path, n_docs=20, n_files=2, n_test=5)


def test_measure_peak_refuses_what_a_fresh_process_cannot_run():
    with pytest.raises(TypeError, match="module-level"):
        dm.measure_peak(lambda: 1, [{}])
    with pytest.raises(TypeError, match="runs"):
        dm.measure_peak("json:dumps", {"obj": 1})
    with pytest.raises(RuntimeError, match="failed"):
        dm.measure_peak("json:loads", [{"s": "not json"}])


def test_a_prepared_measuring_process_imports_ahead_and_measures_as_a_fresh_one():
    """prepare() starts the measuring process now; measure_peak then uses it (once): same reports."""
    from deployment_modes import memory

    memory.prepare("json:dumps")
    process = memory._PREPARED["json:dumps"]
    memory.prepare("json:dumps")  # already started: the same process
    assert memory._PREPARED["json:dumps"] is process
    memory.wait_prepared()
    assert process.poll() is None  # imported, waiting for its calls
    reports = dm.measure_peak("json:dumps", [{"obj": [1]}, {"obj": None}], allocations=True)
    assert [r["result"] for r in reports] == ["[1]", "null"]
    assert "json:dumps" not in memory._PREPARED and process.returncode == 0
    with pytest.raises(ValueError, match="timeout"):
        memory.wait_prepared(timeout=0)
    memory.prepare("no_such_module_here:f")
    with pytest.raises(RuntimeError, match="no_such_module_here"):
        memory.wait_prepared()
    assert not memory._PREPARED


def test_measure_peak_runs_children_side_by_side_in_order():
    """Forked children run ``processes`` at a time; the reports come back in the order of the runs,
    each measuring only its own call (the big calls allocate more, whatever ran beside them)."""
    sizes = (1, 4 * 10**6, 3, 8 * 10**6, 5)  # json.dumps([0], indent=n): n + 5 bytes out
    runs = [{"obj": [0], "indent": n} for n in sizes]
    for processes in (1, 2, 3):
        reports = dm.measure_peak("json:dumps", runs, processes=processes, allocations=True)
        assert [len(r["result"]) - 5 for r in reports] == list(sizes)
        peaks = [r["python_peak_mb"] for r in reports]
        assert max(peaks[::2]) < 1 < 4 < peaks[1] < 0.6 * peaks[3]
    with pytest.raises(RuntimeError, match="failed"):
        dm.measure_peak("json:loads", [{"s": "1"}, {"s": "not json"}, {"s": "2"}], processes=2)


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_the_dask_path_checks_its_target_before_training():
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"x": [0.0, 1.0], "y": [0, 1]}), npartitions=1)
    from deployment_modes.scale_out import fit_dask

    trainer = dm.OutOfCoreTrainer(SGDClassifier(), classes=[0, 1])
    with pytest.raises(ValueError, match="target 'label'"):
        fit_dask(trainer, frame, target="label")
    with pytest.raises(TypeError, match="target"):
        fit_dask(trainer, frame, target=None)
    with pytest.raises(TypeError, match="fit_dask"):  # the Dask path is called explicitly
        trainer.fit(frame)
    assert trainer.model is None


def _chunks(n=4, rows=20, features=("a", "b")):
    rng = np.random.default_rng(0)
    return [
        (
            pd.DataFrame(rng.normal(size=(rows, len(features))), columns=list(features)),
            rng.integers(0, 2, rows),
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize(
    "spoil, match",
    [
        (
            lambda X, y: (X.assign(a=np.where(np.arange(len(X)) == 3, np.nan, X["a"])), y),
            r"chunk 3: X has a missing value \(row 3, column 'a'\)",
        ),
        (lambda X, y: (X.assign(a=np.inf), y), "chunk 3: X has an infinite value"),
        (lambda X, y: (X, y[:-1]), "chunk 3: X has 20 rows but y has"),
        (
            lambda X, y: (X.rename(columns={"b": "c"}), y),
            r"chunk 3: its features \['a', 'c'\] differ from the first chunk's \['a', 'b'\]",
        ),
        (lambda X, y: (X[["a"]], y), "chunk 3: its features"),
        (
            lambda X, y: (X, np.where(y == 1, 2, y)),
            r"chunk 3: y has labels \[2\] that are not among the classes \[0, 1\]",
        ),
        (lambda X, y: (X, y.astype(float) * np.nan), "chunk 3: y has a NaN"),
        (lambda X, y: (X.to_numpy()[:, :1], y), "chunk 3: its features"),
    ],
)
def test_each_chunk_is_checked_before_it_is_learned(spoil, match):
    chunks = _chunks()
    chunks[2] = spoil(*chunks[2])
    if isinstance(chunks[2][0], np.ndarray):  # arrays throughout: the width is what must not change
        chunks = [(X.to_numpy(), y) for X, y in chunks[:2]] + [chunks[2]]
    trainer = dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1])
    with pytest.raises(ValueError, match=match):
        trainer.fit(chunks)
    assert trainer.model is None and trainer.history.empty  # nothing half-trained is kept


def test_clean_chunks_still_give_the_plain_loop_model():
    chunks = _chunks()
    trainer = dm.OutOfCoreTrainer(SGDClassifier(random_state=0), classes=[0, 1]).fit(chunks)
    np.testing.assert_array_equal(
        trainer.model.coef_, plain_loop(SGDClassifier(random_state=0), chunks, classes=[0, 1]).coef_
    )


@settings(max_examples=200, deadline=None)
@given(
    labels=st.lists(st.integers(-3, 6), min_size=1, max_size=12),
    classes=st.sets(st.integers(-3, 6), min_size=2, max_size=6),
    kind=st.sampled_from(["int64", "int8", "uint8"]),
)
def test_a_label_outside_the_classes_is_always_found(labels, classes, kind):
    """The fast check of integer labels (by their range) agrees with looking at each label."""
    if kind == "uint8" and (min(labels) < 0 or min(classes) < 0):
        return
    y = np.array(labels, dtype=kind)
    X = np.zeros((len(y), 1))
    unseen = set(labels) - set(classes)
    if unseen:
        with pytest.raises(ValueError, match=re.escape(f"y has labels {sorted(unseen, key=str)}")):
            check_chunk(1, X, y, np.array(sorted(classes)), None)
    else:
        check_chunk(1, X, y, np.array(sorted(classes)), None)


def test_hashed_text_is_hashing_vectorizer_feature_for_feature(corpus):
    """HashedText skips HashingVectorizer's per-call checks: the matrix must be the same, bit for bit."""
    from sklearn.feature_extraction.text import HashingVectorizer

    X, _ = next(iter(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=1_000)))
    for alternate_sign in (False, True):
        ours = dm.HashedText(alternate_sign=alternate_sign).transform(X)
        theirs = HashingVectorizer(
            n_features=2**16, alternate_sign=alternate_sign, analyzer=str.split
        ).transform(X["text"])
        assert (ours != theirs).nnz == 0 and np.array_equal(ours.indptr, theirs.indptr)
    with pytest.raises(TypeError, match="'text' column must hold texts"):
        dm.HashedText().transform(pd.DataFrame({"text": ["a b", np.nan]}))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_online_predictions_of_a_linear_model_are_scikit_learns(corpus, holdout, n_classes):
    """The incremental model's fast path for linear classifiers predicts what their predict does."""
    from deployment_modes.incremental import IncrementalModel

    X, y = holdout
    keep = np.isin(y, sorted(set(y))[:n_classes])
    docs, labels = [{"text": t} for t in X["text"][keep]], np.asarray(y)[keep]
    for model in (SGDClassifier(random_state=0), dm.LeanSGDClassifier(loss="log_loss")):
        learner = IncrementalModel(model, classes=sorted(set(labels)), transform=dm.HashedText())
        learner.learn_many(docs[:200], labels[:200])
        for _ in range(2):  # before and after it learns again (its coef_ changes in place)
            expected = SGDClassifier.predict(learner.model, learner.matrix(docs))
            assert [learner.predict_one(d) for d in docs] == expected.tolist()
            learner.learn_many(docs[200:300], labels[200:300])


def test_score_model_of_a_classifier_is_its_score(trained, holdout):
    """score_model computes a classifier's accuracy without scikit-learn's checks: the same number."""
    X, y = holdout
    model = trained.model
    assert score_model(model, X, y, dm.HashedText()) == model.score(dm.HashedText().transform(X), y)
    with pytest.raises(ValueError):  # a holdout whose lengths differ still fails as score does
        score_model(model, X, list(y)[:-1], dm.HashedText())


@pytest.mark.parametrize("n_classes", [2, 5])
def test_score_model_predicts_as_scikit_learn_class_by_class(trained, holdout, n_classes):
    """Its sparse path (one product per class) gives predict's every label; a NaN fails as predict does."""
    X, y = holdout
    Xt = dm.HashedText().transform(X)
    model = trained.model
    if n_classes == 2:
        model = SGDClassifier(random_state=0).partial_fit(Xt, y == "sports", classes=[False, True])
    assert len(model.classes_) == n_classes
    assert score_model(model, Xt, model.predict(Xt)) == 1.0  # the same label for every document
    assert score_model(model, Xt, y == "sports" if n_classes == 2 else y) == model.score(
        Xt, y == "sports" if n_classes == 2 else y
    )
    Xt.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        score_model(model, Xt, y)


def test_measure_peak_ends_a_call_that_outlives_its_timeout():
    """A call that hangs in its forked child fails the measurement after ``timeout`` seconds."""
    quiet = {"stdout": -3, "stderr": -3}  # subprocess.DEVNULL: the sleep holds no pipe of ours
    with pytest.raises(RuntimeError, match="did not end within timeout=2"):
        dm.measure_peak("subprocess:call", [{"args": ["sleep", "20"], **quiet}], timeout=2)
    assert dm.measure_peak("subprocess:call", [{"args": ["true"], **quiet}])[0]["result"] == 0
