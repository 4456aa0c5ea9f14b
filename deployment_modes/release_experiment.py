"""Shadow and canary releases measured: a bad candidate caught before users see it, a good one promoted.

The drifting stream has changed concept; the served model (the champion, trained before the change)
has gone stale. A retrain job produces a candidate on the first labelled events after the change:
a **good** candidate (those labels as they are) or a **poisoned** one (a labelling job that inverted
most of the labels). :func:`release_run` releases it behind a :class:`~deployment_modes.release.ShadowRelease`
or a :class:`~deployment_modes.release.CanaryRelease` on the events that follow, labels late, and
compares with a blind swap (the candidate serving everyone at once).

Defined in the Late labels and safe releases chapter (``book/late_labels.ipynb``).
"""

from __future__ import annotations

import numbers

import pandas as pd

from ._checks import fraction as check_fraction
from ._checks import positive_int
from .threads import one_thread

__all__ = ["candidate_and_stream", "release_run", "release_table"]


def candidate_and_stream(
    seed: int = 0,
    candidate: str = "good",
    *,
    n_initial: int = 1000,
    drift_at: int = 300,
    train: int = 300,
    n_release: int = 1200,
    poisoned_share: float = 0.7,
):
    """The champion (trained before the drift), a candidate, and the events after its training data.

    The candidate is a logistic regression fitted on the ``train`` labelled events from the drift on;
    ``"poisoned"``: with the labels of the first ``poisoned_share`` of them inverted. Returns
    ``(champion, challenger, events)``: two trained :class:`~deployment_modes.BatchDeployment` and
    the list of ``(x, y)`` that follow (``n_release`` of them).

    Parameters
    ----------
    seed
        Seed of the drifting stream (and of the poisoning).
    candidate
        ``"good"`` or ``"poisoned"``.
    n_initial, drift_at
        The champion's training data, and where the concept changes.
    train
        Labelled events after the change the candidate is fitted on.
    n_release
        Events the release then serves.
    poisoned_share
        Share of the candidate's labels inverted (``"poisoned"`` only).

    Examples
    --------
    >>> champion, challenger, events = candidate_and_stream(
    ...     0, "poisoned", n_initial=200, drift_at=100, train=100, n_release=50)
    >>> len(events), challenger.model_version
    (50, 1)
    """
    champion, challengers, events = _candidates(
        seed,
        [candidate],
        n_initial=n_initial,
        drift_at=drift_at,
        train=train,
        n_release=n_release,
        poisoned_share=poisoned_share,
    )
    return champion, challengers[candidate], events


def _candidates(
    seed, candidates, *, n_initial=1000, drift_at=300, train=300, n_release=1200, poisoned_share=0.7
):
    """:func:`candidate_and_stream` for several candidates of one seed: ``(champion, {candidate: challenger}, events)``.

    The stream, the champion and the events are made once and shared.
    """
    from .batch import BatchDeployment
    from .lean import LeanLogisticRegression
    from .scenarios import drifting_classification, poison_labels

    for candidate in candidates:
        if candidate not in ("good", "poisoned"):
            raise ValueError(f"candidate must be 'good' or 'poisoned', got {candidate!r}")
    train, n_release = positive_int(train, "train"), positive_int(n_release, "n_release")
    poisoned_share = check_fraction(poisoned_share, "poisoned_share")
    clean = drifting_classification(
        seed=seed, n_initial=n_initial, n_stream=drift_at + train + n_release, drift_at=drift_at
    )
    champion = BatchDeployment(LeanLogisticRegression())
    champion.fit_initial(*clean.initial)
    challengers = {}
    for candidate in candidates:
        scenario = clean
        if candidate == "poisoned" and int(train * poisoned_share) > 0:
            scenario = poison_labels(clean, drift_at, int(train * poisoned_share), seed=seed)
        challenger = BatchDeployment(LeanLogisticRegression())
        challenger.fit_initial(
            scenario.X.iloc[drift_at : drift_at + train], scenario.y[drift_at : drift_at + train]
        )
        challengers[candidate] = challenger
    events = list(clean)[drift_at + train :]
    return champion, challengers, events


def release_run(
    seed: int = 0,
    candidate: str = "good",
    release: str = "shadow",
    *,
    evidence: int = 150,
    fraction: float = 0.25,
    delay: int = 50,
    **sizes,
) -> dict:
    """Release a candidate behind a shadow or a canary, labels ``delay`` events late; compare with a blind swap.

    Returns a dict: ``promoted``, ``decided_after`` (events served before the decision), ``exposed``
    (predictions users got from the candidate before the decision), the error rates the decision
    compared, and the accuracy users got until the decision (``release_accuracy``) against what a
    blind swap (``blind_accuracy``) or keeping the champion (``champion_accuracy``) would have given
    them; ``after_release``: the accuracy from the decision on (``champion_after``: the champion's,
    kept); ``log``: the decision's log entry.

    Parameters
    ----------
    seed, candidate
        As in :func:`candidate_and_stream`.
    release
        ``"shadow"`` or ``"canary"``.
    evidence
        Labelled events before the decision (see :class:`~deployment_modes.ShadowRelease`).
    fraction
        The canary's share of the events.
    delay
        Label delay, in events.
    **sizes
        Sizes passed to :func:`candidate_and_stream`.

    Examples
    --------
    >>> r = release_run(0, "poisoned", "shadow", evidence=100, n_initial=200, drift_at=100, train=100, n_release=300)
    >>> r["promoted"], r["exposed"]
    (False, 0)
    """
    return _runs(
        seed, [candidate], [release], evidence=evidence, fraction=fraction, delay=delay, **sizes
    )[0]


def _runs(
    seed,
    candidates,
    releases,
    *,
    evidence: int = 150,
    fraction: float = 0.25,
    delay: int = 50,
    **sizes,
) -> list[dict]:
    """:func:`release_run` for several candidates and releases of one seed (the data and the baselines made once)."""
    from river import metrics

    from .release import CanaryRelease, ShadowRelease
    from .segments import simulate_by_segments
    from .timeline import simulate

    for release in releases:
        if release not in ("shadow", "canary"):
            raise ValueError(f"release must be 'shadow' or 'canary', got {release!r}")
    if isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or delay < 0:
        raise ValueError(f"delay must be an int >= 0 (events), got {delay!r}")
    rows = []
    with one_thread():
        champion, challengers, events = _candidates(seed, candidates, **sizes)
        kept = simulate_by_segments(  # the champion alone: the same for every candidate
            events, _copy(champion), metrics.Accuracy(), delay=delay, name="champion kept"
        )
        blinds = {
            candidate: simulate_by_segments(
                events, _copy(challenger), metrics.Accuracy(), delay=delay, name="blind swap"
            )
            for candidate, challenger in challengers.items()
        }
        for candidate, release in [(c, r) for c in candidates for r in releases]:
            challenger, blind = challengers[candidate], blinds[candidate]
            pair = _copy(champion), _copy(challenger)
            wrapper = (
                ShadowRelease(*pair, evidence=evidence)
                if release == "shadow"
                else CanaryRelease(*pair, evidence=evidence, fraction=fraction, seed=seed)
            )
            tl = simulate(
                events, wrapper, metrics.Accuracy(), delay=delay, name=f"{release} release"
            )
            if wrapper.decision is None:
                raise ValueError(
                    f"the release gathered too few labels to decide: lower evidence (now {evidence}) "
                    f"or give a longer stream (n_release)"
                )
            until = wrapper.decision["predicted"]
            rows.append(
                {
                    "seed": seed,
                    "candidate": candidate,
                    "release": release,
                    "promoted": wrapper.decision["promoted"],
                    "decided_after": until,
                    "exposed": wrapper.decision["served_by_challenger"],
                    "champion_error": wrapper.decision["champion_error"],
                    "challenger_error": wrapper.decision["challenger_error"],
                    "release_accuracy": tl.window_score(0, until),
                    "blind_accuracy": blind.window_score(0, until),
                    "champion_accuracy": kept.window_score(0, until),
                    "after_release": tl.window_score(until),
                    "champion_after": kept.window_score(until),
                    "log": [e for e in tl.log if e.kind in ("promote", "reject")],
                }
            )
    return rows


def _copy(deployment):
    import copy

    return copy.deepcopy(deployment)


def release_table(
    seeds=(0, 1, 2, 3, 4),
    *,
    releases=("shadow", "canary"),
    candidates=("poisoned", "good"),
    **kwargs,
) -> pd.DataFrame:
    """:func:`release_run` for every seed, release and candidate: one row each (the log left out).

    Parameters
    ----------
    seeds
        Seeds of the runs.
    releases
        Releases to run (``"shadow"``, ``"canary"``).
    candidates
        Candidates to release (``"poisoned"``, ``"good"``).
    **kwargs
        Passed to :func:`release_run`.

    Examples
    --------
    >>> t = release_table([0], releases=["shadow"], candidates=["good"], evidence=100, n_initial=200,
    ...                   drift_at=100, train=100, n_release=300)
    >>> t[["candidate", "promoted"]].values.tolist()
    [['good', True]]
    """
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    rows = [
        row for seed in seeds for row in _runs(seed, list(candidates), list(releases), **kwargs)
    ]
    return pd.DataFrame([{k: v for k, v in row.items() if k != "log"} for row in rows])
