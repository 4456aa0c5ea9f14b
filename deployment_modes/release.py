"""Safe releases: a challenger earns its place on labelled evidence before it serves everyone.

No deployed model is swapped blind. The **champion** is the deployment that serves; the
**challenger** is a candidate (a retrained model, a new architecture). Two wrappers, both
deployments themselves (``fit_initial`` / ``predict_one`` / ``learn_one``), run the pair:

- :class:`ShadowRelease`: the challenger predicts every event too, but its predictions are never
  served; both are scored on the same labels (a paired comparison). No user sees the challenger
  before the decision.
- :class:`CanaryRelease`: a seeded ``fraction`` of the events is served by the challenger, the
  rest by the champion; each is scored on the labels of its own slice.

After ``evidence`` labelled events (shadow: every labelled event; canary: the challenger's labelled
events), the wrapper decides: the challenger is **promoted** (it serves from then on) if its error
rate is not larger than the champion's plus ``margin``, or, with ``alpha``, only if a one-sided test
says it is better at level ``alpha`` (shadow: an exact sign test on the events where exactly one of the
two is wrong, McNemar's; canary: a two-proportion z-test). Otherwise it is **rejected** and dropped.
The decision is logged (``"promote"`` / ``"reject"``) with both error rates, and kept in :attr:`decision`.

Both deployments keep learning from every label while the release runs (each in its own mode).
Errors are 0/1 (``task="classification"``) or absolute (``"regression"``; then ``alpha`` is not offered).

Defined in the Late labels and safe releases chapter (``book/late_labels.ipynb``).
"""

from __future__ import annotations

import math
import random

from ._checks import fraction, has_method, positive_int
from .timeline import LogEntry

__all__ = ["CanaryRelease", "ShadowRelease", "sign_test", "two_proportion_test"]


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact p-value that the challenger is not better: P(X >= wins), X ~ Bin(wins + losses, 1/2).

    Parameters
    ----------
    wins
        Events only the champion got wrong.
    losses
        Events only the challenger got wrong.

    Examples
    --------
    >>> round(sign_test(15, 5), 4)
    0.0207
    """
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def two_proportion_test(errors_a: int, n_a: int, errors_b: int, n_b: int) -> float:
    """One-sided p-value that B's error rate is not lower than A's (pooled two-proportion z-test).

    Parameters
    ----------
    errors_a, n_a
        Errors and events of A (the champion).
    errors_b, n_b
        Errors and events of B (the challenger).

    Examples
    --------
    >>> round(two_proportion_test(30, 100, 15, 100), 4)
    0.0055
    """
    if n_a == 0 or n_b == 0:
        return 1.0
    pooled = (errors_a + errors_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return 1.0
    z = (errors_a / n_a - errors_b / n_b) / spread
    return 0.5 * math.erfc(z / math.sqrt(2))


def _check_deployment(deployment, name: str) -> None:
    for method in ("fit_initial", "predict_one", "learn_one"):
        has_method(deployment, method, name)


class _Release:
    """What the shadow and canary releases share: the pair, the evidence, the decision, the log."""

    def __init__(
        self,
        champion,
        challenger,
        *,
        evidence: int = 500,
        margin: float = 0.0,
        alpha: float | None = None,
        task: str = "classification",
    ):
        _check_deployment(champion, "champion")
        _check_deployment(challenger, "challenger")
        if champion is challenger:
            raise ValueError("champion and challenger must be two different deployments")
        self.evidence = positive_int(evidence, "evidence")
        self.margin = fraction(margin, "margin", low=0.0, high=math.inf)
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
        if alpha is not None:
            alpha = fraction(alpha, "alpha", low=0.0, high=1.0)
            if task == "regression":
                raise ValueError("alpha (a test on error rates) needs task='classification'")
        self.champion, self.challenger, self.alpha, self.task = champion, challenger, alpha, task
        self.decision: dict | None = None
        self.served_by_challenger = (
            0  # predictions users got from the challenger before the decision
        )
        self._decisions: list[LogEntry] = []
        self._pending: dict = {}  # id(x) -> (x, champion's prediction, challenger's prediction, who served)
        self._errors = [0.0, 0.0]  # champion, challenger: summed errors on the evidence
        self._counts = [0, 0]  # labelled events scored for each
        self._only = [0, 0]  # shadow: events only the champion / only the challenger got wrong
        self._offset = 0
        self.n_seen = self.n_predicted = 0

    # -- the deployment interface --------------------------------------------------------------------
    def fit_initial(self, X, y) -> None:
        """Train the champion offline on ``(X, y)``; the challenger arrives trained (it is the candidate)."""
        self.champion.fit_initial(X, y)

    @property
    def served(self):
        """The deployment that answers users now: the champion, or the challenger once promoted."""
        promoted = self.decision is not None and self.decision["promoted"]
        return self.challenger if promoted else self.champion

    @property
    def deciding(self) -> bool:
        """Whether the release is still gathering evidence."""
        return self.decision is None

    @property
    def model_version(self) -> int:
        return getattr(self.served, "model_version", 0) + self._offset

    @property
    def log(self) -> list:
        """The served deployment's log and the release decisions, in stream order."""
        return sorted(list(getattr(self.served, "log", [])) + self._decisions, key=lambda e: e.at)

    def predict_one(self, x: dict):
        """The served deployment's prediction (while deciding, the shadow or canary routing's)."""
        self.n_predicted += 1
        if not self.deciding:
            return self.served.predict_one(x)
        return self._predict_deciding(x)

    def learn_one(self, x: dict, y) -> None:
        """Both deployments learn the label; while deciding, it also scores the predictions made for ``x``."""
        entry = self._pending.pop(id(x), None)
        if self.deciding:
            if (
                entry is None or entry[0] is not x
            ):  # a label for an event not predicted here: predict it now
                entry = (x, *self._predictions(x))
            self._score(y, entry[1], entry[2], entry[3])
        self.champion.learn_one(x, y)
        self.challenger.learn_one(x, y)
        self.n_seen += 1
        if self.deciding and self._enough():
            self._decide()

    # -- evidence and decision ------------------------------------------------------------------------
    def _error(self, y, p) -> float:
        if p is None:
            return 1.0 if self.task == "classification" else math.inf
        return float(p != y) if self.task == "classification" else abs(y - p)

    def _decide(self) -> None:
        (e0, e1), (n0, n1) = self._errors, self._counts
        rate0, rate1 = e0 / n0, e1 / n1
        p_value = self._p_value() if self.alpha is not None else None
        if self.alpha is None:
            promoted = rate1 <= rate0 + self.margin
            rule = f"challenger error {rate1:.4g} vs champion {rate0:.4g} + margin {self.margin:g}"
        else:
            promoted = p_value < self.alpha
            rule = f"p = {p_value:.3g} that the challenger is not better (alpha {self.alpha:g})"
        old = self.model_version
        self.decision = {
            "promoted": promoted,
            "at": self.n_seen,
            "champion_error": rate0,
            "challenger_error": rate1,
            "champion_events": n0,
            "challenger_events": n1,
            "p_value": p_value,
            "predicted": self.n_predicted,
            "served_by_challenger": self.served_by_challenger,
        }
        if promoted:
            self._offset = old + 1 - getattr(self.challenger, "model_version", 0)
        self._pending.clear()
        self._decisions.append(
            LogEntry(
                self.n_seen,
                "promote" if promoted else "reject",
                rows=n1,
                detail=f"{type(self).__name__}: {rule}",
            )
        )

    def __repr__(self) -> str:
        state = (
            "deciding"
            if self.deciding
            else ("promoted" if self.decision["promoted"] else "rejected")
        )
        return f"{type(self).__name__}({state}, {self._counts[1]} challenger events scored)"


class ShadowRelease(_Release):
    """The challenger predicts every event in the shadow of the champion, which alone serves.

    Parameters
    ----------
    champion, challenger
        Deployments; the challenger comes trained. ``fit_initial`` trains the champion.
    evidence
        Labelled events both are scored on before the decision.
    margin
        How much higher an error rate the challenger may have and still be promoted.
    alpha
        If given, promote only when McNemar's exact sign test finds the challenger better at this level.
    task
        ``"classification"`` (0/1 errors) or ``"regression"`` (absolute errors).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from deployment_modes import BatchDeployment
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> bad = BatchDeployment(DummyClassifier(strategy="constant", constant=0)); bad.fit_initial(X, y)
    >>> release = ShadowRelease(BatchDeployment(LogisticRegression()), bad, evidence=4)
    >>> release.fit_initial(X, y)
    >>> for x0, label in [(0.0, 0), (3.0, 1), (2.5, 1), (0.5, 0)]:
    ...     p = release.predict_one({"x0": x0}); release.learn_one({"x0": x0}, label)
    >>> release.decision["promoted"], release.served is release.champion, release.served_by_challenger
    (False, True, 0)
    """

    def _predictions(self, x):
        return self.champion.predict_one(x), self.challenger.predict_one(x), 0

    def _predict_deciding(self, x):
        entry = self._predictions(x)
        self._pending[id(x)] = (x, *entry)
        return entry[0]

    def _score(self, y, champion_p, challenger_p, _served) -> None:
        e0, e1 = self._error(y, champion_p), self._error(y, challenger_p)
        self._errors[0] += e0
        self._errors[1] += e1
        self._counts[0] += 1
        self._counts[1] += 1
        if self.task == "classification" and e0 != e1:
            self._only[0 if e0 > e1 else 1] += 1

    def _enough(self) -> bool:
        return self._counts[1] >= self.evidence

    def _p_value(self) -> float:
        return sign_test(*self._only)


class CanaryRelease(_Release):
    """A seeded ``fraction`` of the events is served by the challenger, the rest by the champion.

    ``evidence`` counts the challenger's labelled events; the champion is scored on the labels of
    its own slice meanwhile. With ``alpha``, a two-proportion z-test.

    Parameters
    ----------
    champion, challenger
        As in :class:`ShadowRelease`.
    fraction
        Share of the events routed to the challenger, strictly between 0 and 1.
    seed
        Seed of the routing.
    **kwargs
        ``evidence``, ``margin``, ``alpha`` and ``task``, as in :class:`ShadowRelease`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from deployment_modes import BatchDeployment
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> good = BatchDeployment(LogisticRegression()); good.fit_initial(X, y)
    >>> release = CanaryRelease(BatchDeployment(LogisticRegression()), good, fraction=0.5, evidence=3, seed=1)
    >>> release.fit_initial(X, y)
    >>> for i in range(20):
    ...     x = {"x0": float(i % 4)}; p = release.predict_one(x); release.learn_one(x, y[i % 4])
    >>> release.decision["promoted"], 0 < release.served_by_challenger < 20
    (True, True)
    """

    def __init__(self, champion, challenger, *, fraction: float = 0.1, seed: int = 0, **kwargs):
        super().__init__(champion, challenger, **kwargs)
        from ._checks import fraction as check_fraction

        self.fraction = check_fraction(fraction, "fraction")
        if not 0 < self.fraction < 1:
            raise ValueError(f"fraction must be strictly between 0 and 1, got {fraction!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r:.40}")
        self._rng = random.Random(seed)

    def _predictions(self, x):
        if self._rng.random() < self.fraction:
            return None, self.challenger.predict_one(x), 1
        return self.champion.predict_one(x), None, 0

    def _predict_deciding(self, x):
        entry = self._predictions(x)
        self._pending[id(x)] = (x, *entry)
        if entry[2]:
            self.served_by_challenger += 1
            return entry[1]
        return entry[0]

    def _score(self, y, champion_p, challenger_p, served) -> None:
        who = 1 if served else 0
        self._errors[who] += self._error(y, challenger_p if served else champion_p)
        self._counts[who] += 1

    def _enough(self) -> bool:
        return self._counts[1] >= self.evidence and self._counts[0] > 0

    def _p_value(self) -> float:
        (e0, e1), (n0, n1) = self._errors, self._counts
        return two_proportion_test(int(e0), n0, int(e1), n1)
