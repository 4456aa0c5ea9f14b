"""The claims of the Out-of-core learning chapter (book/out_of_core.ipynb), on its corpus and seeds."""

import pytest
from sklearn.linear_model import SGDClassifier

import deployment_modes as dm


def test_chapter_claim_order_dependence(sorted_corpus, holdout):
    """Topic-sorted files in file order give a poor model; the seeded shuffle buffer fixes it."""
    scores = {}
    for shuffle in (False, True):
        trainer = dm.OutOfCoreTrainer(
            SGDClassifier(random_state=0),
            classes=list(sorted_corpus.topics),
            transform=dm.HashedText(),
            holdout=holdout,
        )
        trainer.fit(dm.read_chunks(sorted_corpus.train, "topic", chunk_rows=1_000, shuffle=shuffle))
        scores[shuffle] = trainer.history["score"].iloc[-1]
    assert scores[False] < 0.5 < 0.85 < scores[True]


def test_chapter_claim_chunk_size_costs_memory_not_accuracy(corpus, holdout):
    runs = {}
    for rows in (250, 1_000, 5_000):
        trainer = dm.OutOfCoreTrainer(
            SGDClassifier(random_state=0),
            classes=list(corpus.topics),
            transform=dm.HashedText(),
            holdout=holdout,
        )
        runs[rows] = trainer.fit(dm.read_chunks(corpus.files[:2], "topic", chunk_rows=rows)).history
    assert [len(h) for h in runs.values()] == [20, 5, 1]
    assert runs[5_000]["chunk_mb"].max() > 10 * runs[250]["chunk_mb"].max()
    scores = [h["score"].iloc[-1] for h in runs.values()]
    assert max(scores) - min(scores) < 0.1 and min(scores) > 0.75


def test_chapter_claim_small_chunks_take_more_calls(corpus, monkeypatch):
    """Experiment 3: on the first file, chunks of 250, 1,000 and 2,500 documents take 10, 3 and 1
    reads and partial_fit calls (counted, as the chapter glues them; the seconds are not a claim)."""
    from deployment_modes import sgd_partial

    counted, fit = [], sgd_partial.partial_fit
    monkeypatch.setattr(
        sgd_partial,
        "partial_fit",
        lambda m, X, y, **kw: counted.append(len(y)) or fit(m, X, y, **kw),
    )
    calls = {}
    for rows in (250, 1_000, 2_500):
        counted.clear()
        trainer = dm.OutOfCoreTrainer(
            SGDClassifier(random_state=0), classes=list(corpus.topics), transform=dm.HashedText()
        )
        trainer.fit(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=rows))
        calls[rows] = (len(trainer.history), len(counted), sum(counted))
    assert calls == {250: (10, 10, 2_500), 1_000: (3, 3, 2_500), 2_500: (1, 1, 2_500)}


@pytest.mark.slow
def test_chapter_claim_memory_stays_flat_as_the_data_grows(tmp_path):
    """Measured in fresh processes: 10x the rows, the same allocations out-of-core; loading everything grows.

    What is compared is what the program allocates at its peak (Python and numpy, traced, plus
    Arrow's pool), not the process's peak RSS: that also counts the allocators' pools (glibc
    arenas, one per thread allocating at once), which moved by up to 54 MB between runs of the
    same work on a busy machine and made this test flaky.

    The reader reads about two chunks ahead of the learner: the smaller run has ten chunks, so
    that its read-ahead is as full as the bigger run's (with three, it was not: 3 MB apart).
    """
    dm.memory.prepare("deployment_modes.out_of_core:train_on_disk")  # as the chapter: started ahead
    files = [str(p) for p in dm.corpus.write_numeric(tmp_path, n_rows=300_000, n_files=20, seed=0)]
    common = dict(classes=[0, 1], target="y", text=None, chunk_rows=3_000)
    runs = [dict(path=files[:k], in_memory=m, **common) for k in (2, 20) for m in (False, True)]
    small, small_all, big, big_all = dm.measure_peak(
        "deployment_modes.out_of_core:train_on_disk",
        runs,
        warmup=dict(path=files[:1], **common),
        allocations=True,
    )
    assert big["result"]["rows"] == 10 * small["result"]["rows"]
    # seen: 12.0 and 12.1 MB out-of-core; 20 and 198 MB loading everything
    assert big["allocated_peak_mb"] <= 1.1 * small["allocated_peak_mb"] + 1
    assert big_all["allocated_peak_mb"] > 5 * small_all["allocated_peak_mb"]
    assert big_all["allocated_peak_mb"] > 10 * big["allocated_peak_mb"]
    assert (
        big_all["peak_mb"] > big["peak_mb"] + 100
    )  # and the process's peak RSS shows it too (seen: +198 MB)


@pytest.mark.slow
def test_chapter_claim_text_memory_flat_for_out_of_core_and_growing_when_loading_all(corpus):
    files = [str(f) for f in corpus.files]
    runs = [
        {"path": files[:k], "classes": list(corpus.topics), "in_memory": m}
        for k in (2, 8)
        for m in (False, True)
    ]
    warmup = {"path": files[:1], "classes": list(corpus.topics), "chunk_rows": 500}
    small, small_all, big, big_all = dm.measure_peak(
        "deployment_modes.out_of_core:train_on_disk", runs, warmup=warmup, allocations=True
    )
    # allocations, not peak RSS: see the numeric test
    assert big["allocated_peak_mb"] <= 1.1 * small["allocated_peak_mb"] + 1
    assert (
        big_all["allocated_peak_mb"] > 2 * small_all["allocated_peak_mb"]
    )  # loading everything grows with the files
    assert big_all["allocated_peak_mb"] > 2 * big["allocated_peak_mb"]


def test_the_chapters_moving_parts_are_the_comparisons(corpus):
    from chapter_code import code

    from deployment_modes import comparison

    trainer = dm.OutOfCoreTrainer(
        SGDClassifier(random_state=0), classes=list(corpus.topics), transform=dm.HashedText()
    )
    trainer.fit(dm.read_chunks(corpus.files[:1], "topic", chunk_rows=5_000))
    here = comparison.production_parts(trainer.to_online(batch_size=10))
    c = comparison.run_comparison(**comparison.CHAPTER_SIZES)
    assert len(here) == len(c.moving_parts["out-of-core, then online"])
    assert len(here) > len(c.moving_parts["online"]) > len(c.moving_parts["batch"])  # the prose
    assert '"out-of-core, then online": trainer.to_online(batch_size=10)' in code("out_of_core")
