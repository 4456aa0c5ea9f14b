"""The notes' comparison table, checked: the notes' own rating, the measured figures and a verdict per cell.

:func:`rate` reads the runs of :func:`~deployment_modes.comparison.run_comparison` on several
seeds and the downtime :func:`~deployment_modes.downtime.measure_downtime` measured, and for each
aspect of the notes' table and each mode gives the measured figures (mean and range over the
seeds), the level they show in the notes' own words, and whether that agrees with the notes.
The notes' ratings are an argument: they live in the chapter, quoted. :func:`table_html` draws
the result as a table that wraps on a phone.

The rules (the Comparison chapter states them):

- **Low / Medium / High** (:func:`levels`): the smallest measured value is *Low*, the largest
  *High*, one between by its place on a log scale (lower, middle or upper third); when the
  largest is less than twice the smallest, the measurement shows *no difference*. Memory usage
  is measured as the growth of the memory held when the data grows, adaptability as one over
  the events to recover after the drift (never: more than the events left), risk as the largest
  accuracy drop under bad data, complexity as the moving parts.
- **Training**: *Offline* when no model version changed while serving; *Online* when it did;
  *Offline chunks → Online* when, in addition, the first training read its data in chunks.
- **Data handling**, after the first training: *Entire dataset* when a retrain fits all the rows
  seen so far; *Chunks* when the first training read its data in chunks; else *One instance at a
  time* (a mini-batch of a few events counts as instances).
- **Model update**: *Periodic retraining* with retrains and no update in place; *Continuous*
  with at least one update in place per 10 events.
- **Downtime**: *Yes* when requests failed on the real server, *No* when none did.

Defined in the Comparison chapter (``book/comparison.ipynb``).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

__all__ = ["ASPECTS", "MODES", "levels", "rate", "table_html"]

#: The notes' table: its rows (aspects) and its columns (modes), with the line of the runs that measures each mode.
ASPECTS = (
    "Training",
    "Data handling",
    "Model update",
    "Downtime",
    "Memory usage",
    "Adaptability",
    "Risk",
    "Complexity",
)
MODES = {"batch": "batch", "online": "online", "out-of-core": "out-of-core, then online"}
LEVELS = ("Low", "Medium", "High")


def levels(values: dict) -> dict:
    """The notes' Low / Medium / High for measured ``values`` (positive), by where each lies between the extremes.

    When the largest value is less than twice the smallest, the measurement does not separate
    the modes: every level is ``"no difference"``. Otherwise the smallest is *Low*, the largest
    *High*, and a value between is placed by its ratio to the smallest, on a log scale: in the
    lower third *Low*, the middle third *Medium*, the upper third *High*.

    Parameters
    ----------
    values
        ``{mode: measured value}``, positive; a larger value is a higher level.

    Examples
    --------
    >>> levels({"a": 1.0, "b": 1.5, "c": 1.9})
    {'a': 'no difference', 'b': 'no difference', 'c': 'no difference'}
    >>> levels({"a": 1.0, "b": 9.0, "c": 100.0})
    {'a': 'Low', 'b': 'Medium', 'c': 'High'}
    """
    if not isinstance(values, dict) or not values:
        raise TypeError("values must be a non-empty dict of mode -> measured value")
    if any(not v > 0 for v in values.values()):
        raise ValueError(f"values must be positive, got {values}")
    low, high = min(values.values()), max(values.values())
    if high < 2 * low:
        return {name: "no difference" for name in values}
    return {
        name: LEVELS[min(int(3 * np.log(v / low) / np.log(high / low)), 2)]
        for name, v in values.items()
    }


def _span(values, fmt: str) -> str:
    values = np.asarray(values, dtype=float)
    low, high = np.nanmin(values), np.nanmax(values)
    mean = fmt.format(np.nanmean(values))
    return (
        mean
        if fmt.format(low) == fmt.format(high)
        else f"{mean} ({fmt.format(low)}–{fmt.format(high)})"
    )


def _facts(comparisons) -> dict:
    """Per mode, the measured values on each seed."""
    facts = {mode: {} for mode in MODES}
    for c in comparisons:
        m = c.measures()
        for mode, line in MODES.items():
            tl = c.runs[line]
            fits = [e for e in tl.log if e.kind in ("train", "retrain")]
            f = facts[mode]
            f.setdefault("versions", []).append(int(tl.model_version.max()))
            f.setdefault("retrains", []).append(int(m.loc["retrains", line]))
            f.setdefault("updates per event", []).append(
                float(m.loc["model updates per event", line])
            )
            f.setdefault("largest fit", []).append(max(e.rows for e in fits))
            f.setdefault("rows seen", []).append(len(c.scenario.y_initial) + len(c.scenario))
            f.setdefault("chunks", []).append(c.chunks if mode == "out-of-core" else 0)
            f.setdefault("memory", []).append(float(m.loc["memory held at the end (MB)", line]))
            f.setdefault("growth", []).append(float(m.loc["memory growth with the data", line]))
            recover = m.loc["events to recover after the drift", line]
            f.setdefault("recover", []).append(
                np.nan if recover is None or pd.isna(recover) else float(recover)
            )
            f.setdefault("after drift", []).append(
                float(m.loc["accuracy after the drift (%)", line])
            )
            f.setdefault("left after drift", []).append(len(tl) - tl.drift_at[0] + 1)
            f.setdefault("retrain rows", []).append(
                max([e.rows for e in tl.log if e.kind == "retrain"], default=0)
            )
            f.setdefault("chunk rows", []).append(c.chunk_rows if mode == "out-of-core" else 0)
            f.setdefault("drop", []).append(float(c.poison_drop()[line]))
            if mode == "online":
                f.setdefault("drop guarded", []).append(
                    float(c.poison_drop()["online, guardrails"])
                )
            if mode == "out-of-core":
                f.setdefault("drop chunk", []).append(c.chunk_risk["poisoned chunk"])
                f.setdefault("drop order", []).append(c.chunk_risk["sorted by label"])
            f.setdefault("parts", []).append(int(m.loc["moving parts", line]))
    return facts


def _measured_levels(facts, key, transform=lambda v: v) -> list:
    """The levels on each seed of the quantity ``key`` (after ``transform``)."""
    n = len(next(iter(facts.values()))[key])
    return [levels({mode: transform(facts[mode], i) for mode in MODES}) for i in range(n)]


def _verdict(note: str, measured: list) -> tuple:
    """(level shown, verdict) from the level measured on each seed."""
    counts = pd.Series(measured).value_counts()
    shown = counts.index[0]
    if len(counts) == 1:
        return shown, "agrees" if shown.lower() == note.lower() else f"differs: measured {shown}"
    agree = int(sum(level.lower() == note.lower() for level in measured))
    return shown, f"agrees on {agree} of {len(measured)} seeds (measured {', '.join(counts.index)})"


def rate(comparisons, notes: dict, downtime: dict | None) -> pd.DataFrame:
    """Rate every cell of the notes' table: ``notes[aspect][mode]`` beside the measured figures and a verdict.

    Parameters
    ----------
    comparisons
        :class:`~deployment_modes.comparison.Comparison` objects, one per seed.
    notes
        The notes' table: ``{aspect: {mode: rating}}`` for every aspect of :data:`ASPECTS` and mode of :data:`MODES`.
    downtime
        :func:`~deployment_modes.downtime.measure_downtime`'s result (``None``: the downtime row says so).

    Returns one row per (aspect, mode): ``notes``, ``measured``, ``level`` (in the notes' words,
    by the module's rules) and ``verdict``.
    """
    comparisons = list(comparisons)
    if not comparisons:
        raise ValueError("comparisons must hold at least one Comparison")
    if (
        not isinstance(notes, dict)
        or set(notes) != set(ASPECTS)
        or any(set(notes[a]) != set(MODES) for a in ASPECTS)
    ):
        raise ValueError(
            f"notes must rate every aspect {list(ASPECTS)} for every mode {list(MODES)}"
        )
    facts = _facts(comparisons)
    rows = []

    def add(aspect, mode, measured, level_per_seed):
        level, verdict = _verdict(notes[aspect][mode], level_per_seed)
        rows.append(
            {
                "aspect": aspect,
                "mode": mode,
                "notes": notes[aspect][mode],
                "measured": measured,
                "level": level,
                "verdict": verdict,
            }
        )

    for mode in MODES:
        f = facts[mode]
        in_place = [max(v - 1 - r, 0) for v, r in zip(f["versions"], f["retrains"])]
        words = [
            "Offline" if p == 0 else ("Offline chunks → Online" if k else "Online")
            for p, k in zip(in_place, f["chunks"])
        ]
        first = (
            "first training offline from disk, in chunks"
            if mode == "out-of-core"
            else "first training offline"
        )
        add(
            "Training",
            mode,
            f"{first}; then {_span(f['retrains'], '{:.0f}')} retrains offline and "
            f"{_span(in_place, '{:,.0f}')} updates on the server",
            words,
        )
    for mode in MODES:
        f = facts[mode]
        words = [
            "Entire dataset" if fit >= seen else ("Chunks" if k else "One instance at a time")
            for fit, seen, k in zip(f["retrain rows"], f["rows seen"], f["chunks"])
        ]
        if mode == "batch":
            text = (
                f"each retrain fits every row kept: the last one {_span(f['retrain rows'], '{:,.0f}')} rows of "
                f"{_span(f['rows seen'], '{:,.0f}')}"
            )
        elif mode == "out-of-core":
            text = (
                f"first training: {_span(f['chunks'], '{:.0f}')} chunks of {_span(f['chunk rows'], '{:,.0f}')} "
                f"rows from disk; then {_span([1 / u for u in f['updates per event']], '{:.0f}')} events per update"
            )
        else:
            text = f"{_span([1 / u for u in f['updates per event']], '{:.0f}')} event per update, no retrain"
        add("Data handling", mode, text, words)
    for mode in MODES:
        f = facts[mode]
        words = [
            "Continuous" if u >= 0.1 else ("Periodic retraining" if r else "Static")
            for u, r in zip(f["updates per event"], f["retrains"])
        ]
        add(
            "Model update",
            mode,
            f"{_span(f['updates per event'], '{:.2f}')} updates per event, "
            f"{_span(f['retrains'], '{:.0f}')} retrains",
            words,
        )
    for mode in MODES:
        if downtime is None:
            rows.append(
                {
                    "aspect": "Downtime",
                    "mode": mode,
                    "notes": notes["Downtime"][mode],
                    "measured": "not measured (benchmarks/comparison.py measures it)",
                    "level": "",
                    "verdict": "not measured",
                }
            )
            continue
        runs = (
            {"naive restart": downtime["naive"], "atomic swap": downtime["swap"]}
            if mode == "batch"
            else {"learning in place": downtime.get(MODES[mode], downtime["online"])}
        )
        parts = [
            f"{name}: {r['seconds']:.1f} s, {r['failed']:,} of {r['requests']:,} requests failed"
            for name, r in runs.items()
        ]
        shown = {name: "Yes" if r["failed"] else "No" for name, r in runs.items()}
        note = notes["Downtime"][mode]
        agree = [name for name, word in shown.items() if note.lower().startswith(word.lower())]
        verdict = (
            "agrees"
            if len(agree) == len(shown)
            else (
                f"agrees for the {', '.join(agree)}; differs for the "
                f"{', '.join(n for n in shown if n not in agree)}"
                if agree
                else "differs"
            )
        )
        rows.append(
            {
                "aspect": "Downtime",
                "mode": mode,
                "notes": note,
                "measured": "; ".join(parts),
                "level": " / ".join(dict.fromkeys(shown.values())),
                "verdict": verdict,
            }
        )
    memory = _measured_levels(facts, "growth", lambda f, i: f["growth"][i])
    recover = _measured_levels(
        facts,
        "recover",
        lambda f, i: (
            1 / (f["left after drift"][i] if np.isnan(f["recover"][i]) else f["recover"][i])
        ),
    )
    risk = _measured_levels(
        facts,
        "drop",
        lambda f, i: max(
            [f["drop"][i]] + [f[k][i] for k in ("drop chunk", "drop order") if k in f]
        ),
    )
    parts = _measured_levels(facts, "parts", lambda f, i: f["parts"][i])
    for mode in MODES:
        f = facts[mode]
        add(
            "Memory usage",
            mode,
            f"{_span(f['memory'], '{:.2f}')} MB held at the end; "
            f"×{_span(f['growth'], '{:.1f}')} as the data grows",
            [s[mode] for s in memory],
        )
    for mode in MODES:
        f = facts[mode]
        never = int(np.isnan(f["recover"]).sum())
        rec = (
            "never recovers"
            if never == len(f["recover"])
            else f"recovers in {_span(f['recover'], '{:,.0f}')} events"
            + (f" (never on {never} of {len(f['recover'])} seeds)" if never else "")
        )
        add(
            "Adaptability",
            mode,
            f"{rec}; {_span(f['after drift'], '{:.1f}')}% right after the drift",
            [s[mode] for s in recover],
        )
    for mode in MODES:
        f = facts[mode]
        # a drop, written as a positive number of points (mean, then min–max over the seeds)
        text = f"drops {_span(f['drop'], '{:.1f}')} points under poisoned labels"
        if mode == "online":
            text += f" ({_span(f['drop guarded'], '{:.1f}')} with guardrails)"
        if mode == "out-of-core":
            text += (
                f"; in the chunked training, a poisoned last chunk costs {_span(f['drop chunk'], '{:.1f}')}, "
                f"data sorted by label {_span(f['drop order'], '{:.1f}')}"
            )
        add("Risk", mode, text, [s[mode] for s in risk])
    for mode in MODES:
        add(
            "Complexity",
            mode,
            f"{_span(facts[mode]['parts'], '{:.0f}')} moving parts",
            [s[mode] for s in parts],
        )
    frame = pd.DataFrame(rows)
    frame["aspect"] = pd.Categorical(frame["aspect"], ASPECTS, ordered=True)
    return frame.sort_values(["aspect"], kind="stable").reset_index(drop=True)


class _Html:
    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


def table_html(rated: pd.DataFrame, *, caption: str = ""):
    """The rated table as HTML: one row per aspect, one column per mode; in each cell the notes'
    word (large), the measured figures and the verdict. Columns wrap, so a phone shows them all.

    Parameters
    ----------
    rated
        :func:`rate`'s result.
    caption
        The table's caption.

    Examples
    --------
    >>> cell = {"notes": "Low", "measured": "1 MB", "level": "Low", "verdict": "agrees"}
    >>> rows = [{"aspect": a, "mode": m, **cell} for a in ASPECTS for m in MODES]
    >>> "<caption>Table 1.</caption>" in table_html(pd.DataFrame(rows), caption="Table 1.")._repr_html_()
    True
    """
    style = (
        "<style>.notes-table{table-layout:fixed;width:100%;border-collapse:collapse;font-size:0.85em}"
        ".notes-table td,.notes-table th{border:1px solid #ccc;padding:4px;vertical-align:top;"
        "overflow-wrap:break-word;hyphens:auto;width:33%}"
        ".notes-table th.aspect{background:#eef2f7;text-align:left;font-size:1.05em}"
        ".notes-table .word{font-size:1.3em;font-weight:bold;display:block;line-height:1.2}"
        ".notes-table .agrees{color:#1a7f37}.notes-table .differs{color:#b35900}</style>"
    )
    head = "".join(f"<th>{html.escape(mode)}</th>" for mode in MODES)
    body = []
    for aspect in ASPECTS:
        cells = []
        for mode in MODES:
            r = rated[(rated["aspect"] == aspect) & (rated["mode"] == mode)].iloc[0]
            kind = "agrees" if r["verdict"] == "agrees" else "differs"
            cells.append(
                f"<td><span class='word'>{html.escape(r['notes'])}</span>{html.escape(r['measured'])}"
                f"<br/><span class='{kind}'>{'✓' if kind == 'agrees' else '≠'} {html.escape(r['verdict'])}"
                "</span></td>"
            )
        body.append(
            f"<tr><th class='aspect' colspan='{len(MODES)}'>{html.escape(aspect)}</th></tr>"
            f"<tr>{''.join(cells)}</tr>"
        )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return _Html(
        f"{style}<table class='notes-table'>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
