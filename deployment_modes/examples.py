"""The notes' real-world examples, each run on a scenario that stands for it, over the seeds.

House prices (stable data: batch is enough), stock trading (volatile prices: online keeps up)
and a text corpus (too big to load: out-of-core, then online). The house prices and the corpus
are generated, so they run on every seed; the stock prices are real data, one history, run
once. Defined in the Comparison chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import pandas as pd

from ._checks import positive_int
from .baselines import NaiveBaseline
from .seeds import SEEDS, mean_range, over_seeds

__all__ = ["NAIVE", "ONLINE_BATCH", "example_measures", "example_runs", "real_world_examples"]

#: The naive baseline's line in the two regressions: the last value seen ("tomorrow's price is today's").
NAIVE = "naive baseline: last"

# The chapter's sizes: small enough for five seeds in the page's time.
N_SALES = (1000, 4000)  # house sales: first training, stream
N_DOCS, N_FILES, N_NEW = 3000, 5, 200  # corpus: training documents, chunk files, new documents
ONLINE_BATCH = 10  # the corpus model learns online in mini-batches, as the comparison table's line


def example_runs(
    seed: int = 0, *, retrain_every: int = 250, stocks: bool = True, directory=None
) -> dict:
    """One seed's runs of the three examples: ``{example: runs}``.

    The two regressions' runs are ``{line: Timeline}`` dicts scored with the MAE, with the naive
    baseline ``NAIVE`` (the last value seen) as their last line; the corpus's is
    ``{"history": the trainer's per-chunk history, "online": the Timeline on new documents}``.
    The stock prices are one real history: ``stocks=False`` skips them (they do not depend on
    ``seed``).

    Parameters
    ----------
    seed
        Seed of the house-prices scenario, the text corpus and the SGD classifier.
    retrain_every
        Events between two retrains of the periodic batch line.
    stocks
        Also run the stock-trading example.
    directory
        Folder for the corpus files (default: a temporary one, removed after).

    Examples
    --------
    >>> runs = example_runs(seed=1, stocks=False)  # doctest: +SKIP
    >>> list(runs)  # doctest: +SKIP
    ['house prices', 'text corpus']
    """
    from river import metrics, neighbors
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor

    from .batch_experiments import batch_timeline
    from .online import OnlineDeployment, sgd_model
    from .scenarios import house_prices, stock_prices
    from .segments import simulate_by_segments
    from .timeline import simulate

    retrain_every = positive_int(retrain_every, "retrain_every")
    periodic = f"batch, every {retrain_every}"

    def regression(scenario, estimator, online) -> dict:
        return {
            "batch, static": batch_timeline(
                scenario, estimator, metrics.MAE(), name="batch, static"
            ),
            periodic: batch_timeline(
                scenario, estimator, metrics.MAE(), retrain_every=retrain_every, name=periodic
            ),
            "online": simulate(scenario, online, metrics.MAE(), name="online"),
            NAIVE: simulate_by_segments(scenario, NaiveBaseline("last"), metrics.MAE(), name=NAIVE),
        }

    runs = {
        "house prices": regression(
            house_prices(seed=seed, n_initial=N_SALES[0], n_stream=N_SALES[1]),
            Ridge(),
            OnlineDeployment(sgd_model("regression", 0.003)),
        )
    }
    if stocks:
        runs["stock trading"] = regression(
            stock_prices("apple", lags=5, n_initial=450),
            KNeighborsRegressor(n_neighbors=10),
            OnlineDeployment(
                neighbors.KNNRegressor(n_neighbors=10, engine=neighbors.LazySearch(window_size=100))
            ),
        )
    runs["text corpus"] = _text_corpus(seed, directory)
    return runs


def example_measures(runs: dict, retrain_every: int = 250) -> dict:
    """What the chapter reads from one seed's :func:`example_runs`, as ``{measure: number}``.

    The MAE of each regression line (``"house prices: online"``, ...), and for the corpus the
    memory of one chunk and of all of them (MB), the holdout accuracy after the chunked training
    and the accuracy online on new documents (%).

    Parameters
    ----------
    runs
        One seed's :func:`example_runs`.
    retrain_every
        The periodic line's interval, as given to :func:`example_runs`.

    Examples
    --------
    >>> example_measures({"text corpus": {"history": pd.DataFrame({"chunk_mb": [1.0, 1.0],
    ...     "score": [0.5, 0.8]}), "online": type("T", (), {"score": 0.9})()}})
    {'corpus: MB per chunk': 1.0, 'corpus: MB in all': 2.0, 'corpus: holdout (%)': 80.0, 'corpus: online (%)': 90.0}
    """
    if not isinstance(runs, dict) or "text corpus" not in runs:
        raise TypeError("runs must be the dict example_runs returns")
    measured = {}
    for example in ("house prices", "stock trading"):
        for line, tl in runs.get(example, {}).items():
            measured[f"{example}: {line}"] = float(tl.score)
    history, online = runs["text corpus"]["history"], runs["text corpus"]["online"]
    measured |= {
        "corpus: MB per chunk": float(history["chunk_mb"].max()),
        "corpus: MB in all": float(history["chunk_mb"].sum()),
        "corpus: holdout (%)": 100 * float(history["score"].iloc[-1]),
        "corpus: online (%)": 100 * float(online.score),
    }
    return measured


def real_world_examples(
    seeds=SEEDS, *, retrain_every: int = 250, directory=None
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The notes' real-world examples over the seeds: ``(table, measures, runs)``.

    House prices (stable: online gains little over a batch retrain), stock trading (prices leave
    the range seen in training: the static model goes stale, online keeps up), and the text
    corpus (out-of-core trains where loading everything would not fit, then continues online).
    ``table`` writes each example's measures as mean (min, max) over the seeds; the stock prices
    are one real history, run once. ``measures`` has one row per seed (:func:`example_measures`),
    ``runs`` are the first seed's :func:`example_runs`, for the figures.

    Parameters
    ----------
    seeds
        The seeds of the generated examples (default: the chapters' five).
    retrain_every
        Events between two retrains of the periodic batch line.
    directory
        Folder for the corpus files (default: a temporary one, removed after).

    Examples
    --------
    >>> table, measures, runs = real_world_examples(seeds=(0, 1))  # doctest: +SKIP
    >>> list(table.index), len(measures)  # doctest: +SKIP
    (['house prices', 'stock trading', 'text corpus'], 2)
    """
    retrain_every = positive_int(retrain_every, "retrain_every")
    seeds = list(seeds)
    first = {}

    def one_seed(seed):
        runs = example_runs(
            seed, retrain_every=retrain_every, stocks=not first, directory=directory
        )
        if not first:
            first.update(runs)
        else:
            runs["stock trading"] = first["stock trading"]
        return example_measures(runs, retrain_every)

    measures = over_seeds(one_seed, seeds)
    return _table(measures, retrain_every), measures, first


def _table(m: pd.DataFrame, every: int) -> pd.DataFrame:
    """Each example's measures in words: mean (min, max) over the seeds."""
    periodic = f"batch, every {every}"

    def mae(example, line, fmt):
        return mean_range(m[f"{example}: {line}"], fmt)

    stock = m.iloc[0]
    rows = [
        {
            "example": "house prices",
            "notes' advice": "batch is enough",
            "measured": f"MAE in k EUR: {mae('house prices', periodic, '{:.1f}')} retrained every "
            f"{every} sales, {mae('house prices', 'online', '{:.1f}')} online, "
            f"{mae('house prices', 'batch, static', '{:.1f}')} static, "
            f"{mae('house prices', NAIVE, '{:.1f}')} for the last sale's price",
        },
        {
            "example": "stock trading",
            "notes' advice": "online: prices move fast",
            "measured": f"MAE in USD (one real history): {stock['stock trading: online']:.3f} online, "
            f"{stock[f'stock trading: {periodic}']:.3f} retrained every {every} days, "
            f"{stock['stock trading: batch, static']:.3f} static, "
            f"{stock[f'stock trading: {NAIVE}']:.3f} for today's price",
        },
        {
            "example": "text corpus",
            "notes' advice": "out-of-core, then online",
            "measured": f"{mean_range(m['corpus: MB per chunk'], '{:.2f}')} MB in memory per chunk, "
            f"{mean_range(m['corpus: MB in all'], '{:.2f}')} MB to load it all; accuracy "
            f"{mean_range(m['corpus: holdout (%)'])}% on held-out documents, "
            f"{mean_range(m['corpus: online (%)'])}% online on {N_NEW} new ones",
        },
    ]
    return pd.DataFrame(rows).set_index("example")


def _text_corpus(
    seed: int, directory=None, *, n_docs: int = N_DOCS, n_files: int = N_FILES, n_new: int = N_NEW
) -> dict:
    """Out-of-core training on a text corpus written to disk, then online on ``n_new`` new documents.

    Online, each new document is predicted before it is learned; the model learns them in
    mini-batches of ``ONLINE_BATCH``.
    """
    import tempfile

    import sklearn
    from river import metrics

    from .chunks import read_chunks
    from .corpus import write_corpus
    from .lean import LeanSGDClassifier
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
            LeanSGDClassifier(random_state=seed),  # scikit-learn's SGD, its small steps lean
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
            trainer.to_online(batch_size=ONLINE_BATCH),
            metrics.Accuracy(),
            name="out-of-core, then online",
            window=50,
        )
    return {"history": trainer.history, "online": online}
