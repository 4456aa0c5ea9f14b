"""The notes' real-world examples, each run on a scenario that stands for it.

House prices (stable data: batch is enough), stock trading (volatile prices: online keeps up)
and a text corpus (too big to load: out-of-core, then online). Defined in the Comparison
chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import pandas as pd

from ._checks import positive_int
from .baselines import NaiveBaseline

__all__ = ["NAIVE", "real_world_examples"]

#: The naive baseline's line in the two regressions: the last value seen ("tomorrow's price is today's").
NAIVE = "naive baseline: last"


def real_world_examples(
    seed: int = 0, *, retrain_every: int = 250, directory=None
) -> tuple[pd.DataFrame, dict]:
    """The notes' real-world examples, each backed by its scenario: ``(table, {example: runs})``.

    House prices (stable: online gains little over a batch retrain), stock trading (prices leave
    the range seen in training: the static model goes stale, online keeps up), and the text
    corpus (out-of-core trains where loading everything would not fit, then continues online).
    The two regressions' runs are ``{line: Timeline}`` dicts scored with the MAE, with the naive
    baseline ``NAIVE`` (the last value seen) as their last line; the corpus's is
    ``{"history": the trainer's per-chunk history, "online": the Timeline on new documents}``.
    ``directory`` holds the corpus files (default: a temporary folder, removed after).

    Parameters
    ----------
    seed
        Seed of the house-prices scenario, the text corpus and the SGD classifier.
    retrain_every
        Events between two retrains of the periodic batch line.
    directory
        Folder for the corpus files (default: a temporary one, removed after).

    Examples
    --------
    >>> table, runs = real_world_examples(seed=0)  # doctest: +SKIP
    >>> list(table.index)  # doctest: +SKIP
    ['house prices', 'stock trading', 'text corpus']
    """
    import sklearn
    from river import metrics, neighbors
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor

    from .batch import BatchDeployment
    from .online import OnlineDeployment, sgd_model
    from .scenarios import house_prices, stock_prices
    from .timeline import compare

    retrain_every = positive_int(retrain_every, "retrain_every")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        houses = compare(
            house_prices(seed=seed),
            {
                "batch, static": BatchDeployment(Ridge()),
                f"batch, every {retrain_every}": BatchDeployment(
                    Ridge(), retrain_every=retrain_every
                ),
                "online": OnlineDeployment(sgd_model("regression", 0.003)),
                NAIVE: NaiveBaseline("last"),
            },
            metrics.MAE(),
        )
        stocks = compare(
            stock_prices("apple", lags=5, n_initial=450),
            {
                "batch, static": BatchDeployment(KNeighborsRegressor(n_neighbors=10)),
                f"batch, every {retrain_every}": BatchDeployment(
                    KNeighborsRegressor(n_neighbors=10), retrain_every=retrain_every
                ),
                "online": OnlineDeployment(
                    neighbors.KNNRegressor(
                        n_neighbors=10, engine=neighbors.LazySearch(window_size=100)
                    )
                ),
                NAIVE: NaiveBaseline("last"),
            },
            metrics.MAE(),
        )
    periodic = f"batch, every {retrain_every}"
    rows = [
        {
            "example": "house prices",
            "notes' advice": "batch is enough",
            "measured": f"MAE {houses[periodic].score:.1f} k EUR retrained every {retrain_every} sales, "
            f"{houses['online'].score:.1f} online, {houses['batch, static'].score:.1f} static, "
            f"{houses[NAIVE].score:.1f} for the last sale's price",
        },
        {
            "example": "stock trading",
            "notes' advice": "online: prices move fast",
            "measured": f"MAE {stocks['online'].score:.2f} USD online, {stocks[periodic].score:.2f} retrained every "
            f"{retrain_every} days, {stocks['batch, static'].score:.2f} static, "
            f"{stocks[NAIVE].score:.2f} for today's price",
        },
    ]
    corpus = _text_corpus(seed, directory)
    history, online = corpus["history"], corpus["online"]
    rows.append(
        {
            "example": "text corpus",
            "notes' advice": "out-of-core, then online",
            "measured": f"{history['chunk_mb'].max():.2f} MB in memory per chunk, "
            f"{history['chunk_mb'].sum():.2f} MB to load it all ({len(history)} chunks); "
            f"holdout accuracy {100 * history['score'].iloc[-1]:.1f}%, "
            f"{100 * online.score:.1f}% online on {len(online)} new documents",
        }
    )
    return (
        pd.DataFrame(rows).set_index("example"),
        {"house prices": houses, "stock trading": stocks, "text corpus": corpus},
    )


def _text_corpus(
    seed: int, directory=None, *, n_docs: int = 6000, n_files: int = 6, n_new: int = 300
) -> dict:
    """Out-of-core training on a text corpus written to disk, then online on ``n_new`` new documents."""
    import tempfile

    import sklearn
    from river import metrics
    from sklearn.linear_model import SGDClassifier

    from .chunks import read_chunks
    from .corpus import write_corpus
    from .out_of_core import HashedText, OutOfCoreTrainer
    from .timeline import simulate

    with (
        tempfile.TemporaryDirectory() as scratch,
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        corpus = write_corpus(
            directory or scratch, n_docs=n_docs, n_files=n_files, n_test=n_new, seed=seed
        )
        X, y = next(
            iter(read_chunks(corpus.test, corpus.target, chunk_rows=n_new, columns=[corpus.text]))
        )
        trainer = OutOfCoreTrainer(
            SGDClassifier(random_state=seed),
            classes=list(corpus.topics),
            transform=HashedText(corpus.text, n_features=2**12),
            holdout=(X, y),
        )
        trainer.fit(
            read_chunks(
                corpus.train, corpus.target, chunk_rows=n_docs // n_files, columns=[corpus.text]
            )
        )
        online = simulate(
            zip(X.to_dict("records"), y.tolist()),
            trainer.to_online(),
            metrics.Accuracy(),
            name="out-of-core, then online",
            window=50,
        )
    return {"history": trainer.history, "online": online}
