"""The quick decision guide: which deployment mode fits a situation, and why.

:func:`recommend` turns a few answers about the situation (how fast the data changes, data size
against memory, whether real-time adaptation is needed, whether stability matters more than
adaptability, how soon labels arrive) into a :class:`Recommendation`: the mode, the reasons in
words and the caveats. The simulation that checks the advice on a timeline
(:func:`situation_scenario`, :func:`simulate_modes`, :func:`simulation_verdict`) lives in
:mod:`~deployment_modes.decision_sim`; its names are importable from here too.

Defined in the Decision guide chapter (``book/decision_guide.ipynb``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ._checks import boolean, gigabytes, one_of
from .decision_sim import (
    AFTER_CHANGE,
    CHANGE,
    DELAY_EVENTS,
    FITS_FRACTION,
    LABEL_DELAY,
    MARGIN_POINTS,
    MODES,
    DelayedLabels,
    line_of,
    simulate_modes,
    simulation_verdict,
    situation_scenario,
)
from .drift_kinds import KINDS as DRIFT_KINDS

__all__ = [
    "AFTER_CHANGE",
    "CHANGE",
    "DELAY_EVENTS",
    "DRIFT_KINDS",
    "FITS_FRACTION",
    "LABEL_DELAY",
    "MARGIN_POINTS",
    "MODES",
    "RECURRING",
    "REFITS",
    "TRIGGERS",
    "DelayedLabels",
    "Recommendation",
    "line_of",
    "recommend",
    "retraining_advice",
    "simulate_modes",
    "simulation_verdict",
    "situation_scenario",
]


#: What starts a retrain: the Retraining chapter's four triggers, or every label for a model that learns online.
TRIGGERS = ("time", "volume", "performance", "drift", "every label")
#: How a retrain trains: from scratch on the data kept (stateless) or by continuing the served model (stateful),
#: the values of :class:`~deployment_modes.BatchDeployment`'s ``refit``.
REFITS = ("scratch", "continue")

#: What the Retraining chapter found on recurring drift.
RECURRING = (
    "keep the old models and serve the one whose concept returns (dm.ModelPool): with recurring drift, "
    "retraining on recent data forgets the old concept, and a slower learning rate did not help"
)


def _drift_kind(value) -> str | None:
    if value is not None and not (isinstance(value, str) and value in DRIFT_KINDS):
        raise ValueError(f"drift_kind must be one of {list(DRIFT_KINDS)} or None, got {value!r}")
    return value


@dataclass
class Recommendation:
    """The mode :func:`recommend` chose, the reasons for it and what to watch out for.

    Parameters
    ----------
    mode
        One of ``MODES``.
    reasons
        Why this mode, one sentence each.
    caveats
        What to watch out for, one sentence each.
    trigger
        What starts a retrain: one of ``TRIGGERS`` (None: no advice).
    refit
        How a retrain trains: ``"continue"`` (stateful) or ``"scratch"`` (stateless), as
        :class:`~deployment_modes.BatchDeployment`'s ``refit`` (None: no advice).
    retraining
        Why this trigger and refit, one sentence each, citing the Retraining chapter's findings.

    Examples
    --------
    >>> advice = recommend(change="fast", realtime=True, label_delay="seconds")
    >>> advice.mode, len(advice.reasons) > 0, str(advice).splitlines()[0]
    ('online', True, 'Recommended: online')
    """

    mode: str
    reasons: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    trigger: str | None = None
    refit: str | None = None
    retraining: list[str] = field(default_factory=list)

    @property
    def retrain(self) -> str:
        """The retraining advice in a few words: ``"<trigger> trigger, stateful (refit='continue')"``."""
        if self.trigger is None:
            return ""
        how = {
            "continue": "stateful (refit='continue')",
            "scratch": "stateless (refit='scratch')",
        }.get(self.refit, "")
        when = (
            "update on every label" if self.trigger == "every label" else f"{self.trigger} trigger"
        )
        return f"{when}, {how}" if how else when

    def __str__(self) -> str:
        lines = [f"Recommended: {self.mode}"] + [f"  because {r}" for r in self.reasons]
        lines += [f"  caveat: {c}" for c in self.caveats]
        if self.trigger is not None:
            lines += [f"  retrain: {self.retrain}"] + [f"    {r}" for r in self.retraining]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = [f"<li>because {html.escape(r)}</li>" for r in self.reasons]
        items += [f"<li><i>caveat:</i> {html.escape(c)}</li>" for c in self.caveats]
        if self.trigger is not None:
            why = "".join(f"<li>{html.escape(r)}</li>" for r in self.retraining)
            items.append(f"<li><i>retrain:</i> {html.escape(self.retrain)}<ul>{why}</ul></li>")
        return f"<p><b>Recommended: {html.escape(self.mode)}</b></p><ul>{''.join(items)}</ul>"


def recommend(
    *,
    change: str = "slow",
    data_gb: float = 1.0,
    memory_gb: float = 16.0,
    realtime: bool = False,
    prefer_stability: bool = False,
    label_delay: str = "days",
    drift_kind: str | None = None,
    partial_fit: bool = True,
) -> Recommendation:
    """Recommend a deployment mode for a situation, with the reasons and the caveats.

    ``change`` is how fast the data changes (``"stable"``, ``"slow"`` or ``"fast"``);
    ``data_gb`` the training data's size and ``memory_gb`` the memory of the training machine;
    ``realtime`` whether the model must adapt to new events as they come; ``prefer_stability``
    whether stable, reproducible predictions matter more than adaptability; ``label_delay``
    how soon the true label of an event is known (``"seconds"``, ``"hours"``, ``"days"``,
    ``"weeks"``). Contradictory answers (real-time adaptation with stability first, or with
    labels that take weeks) raise ValueError.

    ``drift_kind`` (``"sudden"``, ``"gradual"``, ``"incremental"``, ``"recurring"`` or None when
    not known) and ``partial_fit`` (whether the estimator can continue training) shape the
    retraining advice: the recommendation names the trigger and the refit to use, with the
    findings of the Retraining chapter behind them (:func:`~deployment_modes.decision.retraining_advice`).

    Parameters
    ----------
    change
        How fast the data changes: ``"stable"``, ``"slow"`` or ``"fast"``.
    data_gb
        The training data's size (GB).
    memory_gb
        The training machine's memory (GB).
    realtime
        Whether the model must adapt to new events as they come.
    prefer_stability
        Whether stable, reproducible predictions matter more than adaptability.
    label_delay
        How soon an event's true label is known: one of ``LABEL_DELAY``.
    drift_kind
        How the data changes, if known: one of ``DRIFT_KINDS``, or None.
    partial_fit
        Whether the estimator has ``partial_fit`` (it can continue training from its state).

    Examples
    --------
    >>> recommend(change="stable").mode
    'batch'
    >>> recommend(change="fast", realtime=True, label_delay="seconds").mode
    'online'
    >>> recommend(change="fast", data_gb=500, memory_gb=32, label_delay="hours").mode
    'out-of-core, then online'
    >>> recommend(change="fast", realtime=True, prefer_stability=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: realtime=True and prefer_stability=True contradict each other: ...
    """
    change = one_of(change, CHANGE, "change")
    data_gb, memory_gb = gigabytes(data_gb, "data_gb"), gigabytes(memory_gb, "memory_gb")
    realtime, prefer_stability = (
        boolean(realtime, "realtime"),
        boolean(prefer_stability, "prefer_stability"),
    )
    label_delay = one_of(label_delay, LABEL_DELAY, "label_delay")
    drift_kind = _drift_kind(drift_kind)
    partial_fit = boolean(partial_fit, "partial_fit")
    if drift_kind is not None and change == "stable":
        raise ValueError(
            f"change='stable' and drift_kind={drift_kind!r} contradict each other: data that "
            "barely changes has no drift to name"
        )
    if realtime and prefer_stability:
        raise ValueError(
            "realtime=True and prefer_stability=True contradict each other: real-time adaptation "
            "changes the model with every event, stability keeps it fixed between releases"
        )
    if realtime and label_delay == "weeks":
        raise ValueError(
            "realtime=True and label_delay='weeks' contradict each other: a model cannot adapt "
            "in real time to labels that arrive weeks later"
        )
    if realtime and change == "stable":
        raise ValueError(
            "realtime=True and change='stable' contradict each other: there is nothing to adapt "
            "to in real time when the data does not change"
        )

    reasons, caveats = [], []
    too_big = data_gb > memory_gb * FITS_FRACTION
    labels_fast = LABEL_DELAY.index(label_delay) <= LABEL_DELAY.index("days")
    evolve = (realtime or change == "fast") and not prefer_stability and labels_fast
    if data_gb > memory_gb:
        reasons.append(
            f"the data ({data_gb:g} GB) does not fit in memory ({memory_gb:g} GB): "
            "train chunk by chunk from disk"
        )
    elif too_big:
        reasons.append(
            f"the data ({data_gb:g} GB) fills more than half the memory ({memory_gb:g} GB): "
            "training makes copies of it (features, a converted or shuffled copy) that would not "
            "fit; train chunk by chunk from disk"
        )
    if too_big:
        caveats.append(
            "chunk order matters: shuffle the chunks, or the model is biased towards the last ones"
        )
    if evolve:
        reasons.append(
            "real-time adaptation is needed"
            if realtime
            else "the data changes fast: a model retrained now and then goes stale between retrains"
        )
        reasons.append(
            f"labels arrive within {label_delay}, so every event can update the model soon after it"
        )
        caveats.append(
            "online learning needs monitoring: guardrails against bad data (poisoning, outliers), "
            "drift alarms and a way to roll back"
        )
        if label_delay == "days":
            caveats.append("labels take days: the model adapts no faster than its labels arrive")
    else:
        if change == "stable":
            reasons.append("the data barely changes: a static model stays accurate for long")
        elif prefer_stability:
            reasons.append("stable, reproducible predictions matter more than adaptability")
        elif not labels_fast:
            reasons.append(
                "labels take weeks to arrive: updating every event gains little over a periodic retrain"
            )
        else:
            reasons.append(
                "the data drifts slowly and no real-time adaptation is needed: "
                "a periodic retrain keeps up"
            )
        if change == "fast":
            caveats.append(
                "the data changes fast: retrain often, on a recent window, or when a drift "
                "detector fires, or the model goes stale"
            )
        if not too_big:
            caveats.append("each retrain fits on all the data kept: its cost grows with the data")
    if too_big:
        mode = "out-of-core, then online" if evolve else "out-of-core"
        if not evolve:
            reasons.append(
                "the model does not need to evolve between releases: re-run the chunked training "
                "now and then"
            )
    else:
        mode = "online" if evolve else "batch"
    trigger, refit, retraining = retraining_advice(
        mode, change=change, drift_kind=drift_kind, partial_fit=partial_fit, label_delay=label_delay
    )
    return Recommendation(mode, reasons, caveats, trigger, refit, retraining)


def retraining_advice(
    mode: str,
    *,
    change: str = "slow",
    drift_kind: str | None = None,
    partial_fit: bool = True,
    label_delay: str = "days",
) -> tuple[str, str, list[str]]:
    """The retraining trigger and refit for a mode, and why: ``(trigger, refit, sentences)``.

    A mode that learns online updates on every label, statefully. A mode that retrains
    (batch, out-of-core) retrains when its rolling error crosses a threshold (the performance
    trigger) when the data changes, on a schedule (time) when it barely does; statefully
    (``refit="continue"``) when the estimator has ``partial_fit``, else from scratch. The
    sentences cite what the Retraining chapter measured over five seeds, and what the drift
    kind adds.

    Parameters
    ----------
    mode
        One of ``MODES``.
    change, drift_kind, partial_fit, label_delay
        The answers, as in :func:`recommend`.

    Examples
    --------
    >>> retraining_advice("batch", drift_kind="recurring")[:2]
    ('performance', 'continue')
    >>> retraining_advice("online", drift_kind="sudden")[:2]
    ('every label', 'continue')
    >>> retraining_advice("batch", change="stable", partial_fit=False)[:2]
    ('time', 'scratch')
    """
    mode = one_of(mode, MODES, "mode")
    change = one_of(change, CHANGE, "change")
    drift_kind = _drift_kind(drift_kind)
    partial_fit = boolean(partial_fit, "partial_fit")
    label_delay = one_of(label_delay, LABEL_DELAY, "label_delay")
    if drift_kind is not None and change == "stable":
        raise ValueError(
            f"change='stable' and drift_kind={drift_kind!r} contradict each other: data that "
            "barely changes has no drift to name"
        )
    said = []
    if mode in ("online", "out-of-core, then online"):
        said.append(
            "an online model updates on every label, continuing from its state: no retraining schedule"
        )
        if drift_kind is not None:
            said.append(
                f"online learning copes with {drift_kind} drift: in the Retraining chapter it coped best "
                "of all the deployments with all four kinds of drift, on every seed"
            )
        if drift_kind == "recurring":
            said.append(RECURRING)
        return "every label", "continue", said
    if change == "stable" and drift_kind is None:
        trigger = "time"
        said.append(
            "the data barely changes: retrain on a schedule (time trigger); time and volume triggers "
            "retrain alike when traffic is steady"
        )
    else:
        trigger = "performance"
        said.append(
            "retrain when the served model's rolling error crosses a threshold (performance trigger): "
            "it was the most accurate of the four triggers in the Retraining chapter"
        )
        if drift_kind in ("gradual", "incremental"):
            said.append(
                f"avoid the drift trigger: with {drift_kind} drift a drift-triggered retrain reacts late, "
                "the detector firing only once the change is large"
            )
        else:
            said.append("a drift trigger retrained least: choose it when each retrain is expensive")
        if label_delay == "weeks":
            said.append(
                "labels take weeks: the performance trigger sees the errors only when their labels arrive"
            )
    if partial_fit:
        refit = "continue"
        said.append(
            "retrain statefully (BatchDeployment(refit='continue')), continuing the served model on the "
            "events since the last retrain: it beat stateless retraining on every seed, with far fewer "
            "rows per retrain"
        )
    else:
        refit = "scratch"
        said.append(
            "the estimator has no partial_fit: retrain from scratch on a recent window "
            "(refit='scratch'); stateful retraining, where possible, beat it on every seed"
        )
    if drift_kind == "recurring":
        said.append(RECURRING)
    if drift_kind is not None:
        said.append(
            "consider online learning if labels arrive soon enough: it coped best with all four kinds "
            "of drift, on every seed"
        )
    return trigger, refit, said
