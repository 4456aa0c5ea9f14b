"""hash_words (behind dm.HashedText): scikit-learn's FeatureHasher matrix, entry for entry."""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import FeatureHasher

import deployment_modes as dm
from deployment_modes.hashing import hash_row, hash_words


def feature_hasher(texts, n_features, alternate_sign):
    hasher = FeatureHasher(n_features, input_type="string", alternate_sign=alternate_sign)
    return hasher.transform(text.split() for text in texts)


def assert_same_matrix(ours, theirs):
    assert type(ours) is type(theirs) and ours.shape == theirs.shape
    for part in ("data", "indices", "indptr"):
        mine, reference = getattr(ours, part), getattr(theirs, part)
        assert mine.dtype == reference.dtype and np.array_equal(mine, reference), part


ODD_TEXTS = [
    "",
    "   ",
    "  ba  be\tba\n",
    "héllo wörld\u00a0x\x1cy\u3000z\u2028q\u0085r",
    "日本 語 日本",
    "a",
]


@pytest.mark.parametrize("n_features", [1, 16, 2**16, 2**20])
@pytest.mark.parametrize("alternate_sign", [False, True])
def test_hash_words_is_feature_hashers_matrix(corpus, n_features, alternate_sign):
    X, _ = next(iter(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=1_000)))
    texts = X["text"].tolist() + ODD_TEXTS
    for some in (texts, texts[:3], ODD_TEXTS, [""], ["ba ba ba"]):
        theirs = feature_hasher(some, n_features, alternate_sign)
        assert_same_matrix(hash_words(some, n_features, alternate_sign), theirs)
        assert_same_matrix(hash_words(pa.array(some), n_features, alternate_sign), theirs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=30), min_size=1))
def test_hash_words_is_feature_hashers_matrix_on_any_text(texts):
    for many in (texts, texts * 5):  # a few texts are split in Python, more by Arrow
        assert_same_matrix(hash_words(many, 64, True), feature_hasher(many, 64, True))


def test_arrow_splits_on_the_whitespace_python_splits_on():
    """Every code point between two letters: Arrow's utf8_split_whitespace gives str.split()'s words."""
    text = "".join(f"a{chr(c)}" for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    words = pc.utf8_split_whitespace(pa.array([text]))[0].as_py()
    assert [w for w in words if w] == text.split()


def test_hash_words_needs_a_text():
    with pytest.raises(ValueError, match="texts must hold at least one text"):
        hash_words([], 16)
    with pytest.raises(ValueError, match="X holds no documents"):
        dm.HashedText().transform([])


@pytest.mark.parametrize("n_features", [1, 16, 2**16])
@pytest.mark.parametrize("alternate_sign", [False, True])
def test_hash_row_is_hash_words_row(corpus, n_features, alternate_sign):
    X, _ = next(iter(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=300)))
    for text in X["text"].tolist() + ODD_TEXTS:
        row = hash_words([text], n_features, alternate_sign)
        columns, values = hash_row(text, n_features, alternate_sign)
        assert np.array_equal(row.indices, columns) and np.array_equal(row.data, values)
        hasher = dm.HashedText(n_features=n_features, alternate_sign=alternate_sign)
        row, (columns, values) = hasher.transform([text]), hasher.row(text)
        assert np.array_equal(row.indices, columns) and np.array_equal(row.data, values)


@pytest.mark.parametrize("binary", [False, True])
def test_one_text_is_predicted_as_its_matrix_row_is(corpus, binary):
    """The online learner predicts one text from its hashed entries (no sparse matrix built):
    the same scores as the sparse product, bit for bit, and scikit-learn's own predictions."""
    from sklearn.linear_model import SGDClassifier

    from deployment_modes.incremental import IncrementalModel

    X, y = next(iter(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=1_000)))
    y = (y == "sports") if binary else y
    hasher = dm.HashedText()
    learner = IncrementalModel(
        SGDClassifier(random_state=0), classes=sorted(set(y)), transform=hasher
    )
    learner.learn_many([{"text": t} for t in X["text"][:600]], list(y[:600]))
    weights = np.ascontiguousarray(learner.model.coef_.T)
    texts = X["text"][600:].tolist() + ODD_TEXTS
    for text in texts:
        columns, values = hasher.row(text)
        products = values[:, None] * weights[columns]
        lean = np.cumsum(products, axis=0)[-1] if len(columns) else np.zeros(weights.shape[1])
        assert np.array_equal(lean, (hasher.transform([text]) @ weights)[0])
    ours = [learner.predict_one({"text": t}) for t in texts]
    assert ours == learner.model.predict(hasher.transform(texts)).tolist()
