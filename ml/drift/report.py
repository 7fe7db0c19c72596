"""compare_frames: every column of two tables through the detectors of its kind, with false alarms controlled.

Decision rule, per column: each detector gives a p-value and an effect size. Only detectors whose effect clears
their relevance floor may speak; the column's p-value is the smallest of theirs times the number of detectors
run on the column (Bonferroni within the column), and the columns' p-values are then adjusted together with
Benjamini-Hochberg. A column drifted when its adjusted p-value is at most `alpha`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ml.drift import categorical, numeric, presence, text
from ml.drift.findings import Finding
from ml.drift.kinds import CATEGORICAL, EMPTY, IDENTIFIER, NUMERIC, TEXT, ColumnValues, column_kind, prepare
from ml.drift.stats import benjamini_hochberg

DEFAULT_ALPHA = 0.01
# Which significant detector leads a drifted column's summary: the plainest description of the change first.
_SUMMARY_ORDER = ("value_type", "mann_whitney", "new_values", "chi_square", "missing_rate", "nonzero_shift",
                  "middle_half", "value_grid", "outlier_share", "beyond_range", "kolmogorov_smirnov", "text_length",
                  "language_mix", "vocabulary", "character_classes")

# Relative shares of a column's error budget per detector (see _alpha_shares); unlisted detectors weigh 1.
_WEIGHTS = {"mann_whitney": 3.0, "kolmogorov_smirnov": 2.0, "missing_rate": 2.0, "value_type": 2.0, "chi_square": 2.0,
            "new_values": 1.5}


def compare_frames(reference: pd.DataFrame, current: pd.DataFrame, *, columns: list[str] | None = None,
                   alpha: float = DEFAULT_ALPHA) -> dict:
    """Compare `current` with `reference` column by column.

    Returns {"columns": {name: {"drifted", "method", "statistic", "effect", "p_value", "summary", "kind",
    "reference", "current", "tests"}}, "drifted": [names in column order], "summary": [readable lines, strongest
    first], "alpha", "rows": {"reference", "current"}, "schema": {"only_in_reference", "only_in_current"}}.
    A column present in one table only is reported as drifted with method "schema".
    """
    if not isinstance(reference, pd.DataFrame) or not isinstance(current, pd.DataFrame):
        raise TypeError("compare_frames needs two pandas DataFrames")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    reference, current = _named_columns(reference, "reference"), _named_columns(current, "current")
    names = _column_names(reference, current, columns)
    entries: dict[str, dict] = {}
    evidence: dict[str, tuple[float, Finding | None, list[Finding]]] = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for name in names:
            if name not in current.columns or name not in reference.columns:
                entries[name] = _schema_entry(name in reference.columns)
                continue
            try:
                ref, cur = prepare(reference[name]), prepare(current[name])
                kind = column_kind(ref, cur)
                findings = _findings(ref, cur, kind)
                entries[name] = {"kind": kind, "reference": _describe(ref, kind), "current": _describe(cur, kind)}
            except Exception as exc:  # noqa: BLE001 - one odd column must not cost the user the whole report
                entries[name] = _failed_entry(exc)
                continue
            evidence[name] = _column_evidence(findings)
    adjusted = dict(zip(evidence, benjamini_hochberg([p for p, _, _ in evidence.values()]), strict=True))
    for name, (_, decisive, findings) in evidence.items():
        drifted = decisive is not None and adjusted[name] <= alpha
        entries[name] = {**_decision(findings, drifted, adjusted[name], alpha), **entries[name],
                         "tests": [f.as_dict() for f in findings]}
    drifted = [name for name in names if entries[name]["drifted"]]
    strongest = sorted(drifted, key=lambda n: (entries[n]["p_value"], names.index(n)))
    return {"columns": entries, "drifted": drifted,
            "summary": [f"{name}: {entries[name]['summary']}" for name in strongest],
            "alpha": alpha, "rows": {"reference": int(len(reference)), "current": int(len(current))},
            "schema": {"only_in_reference": [n for n in names if n not in current.columns],
                       "only_in_current": [n for n in names if n not in reference.columns]}}


def _named_columns(frame: pd.DataFrame, which: str) -> pd.DataFrame:
    """The frame with string column names (a renamed view; the caller's frame is left alone)."""
    names = [str(c) for c in frame.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"the {which} table repeats column names ({', '.join(repeated[:5])}); rename them")
    return frame.set_axis(names, axis=1) if names != list(frame.columns) else frame


def _column_names(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str] | None) -> list[str]:
    known = set(reference.columns)
    everything = list(reference.columns) + [c for c in current.columns if c not in known]
    if columns is None:
        return list(dict.fromkeys(everything))
    unknown = [c for c in columns if c not in everything]
    if unknown:
        raise ValueError(f"no column named {', '.join(map(repr, unknown[:5]))} in either table")
    return list(dict.fromkeys(columns))


def _decision(findings: list[Finding], drifted: bool, p_value: float, alpha: float) -> dict:
    leading = _leading(findings, alpha) if drifted else []
    shown = leading[0] if leading else _most_notable(findings)
    numbers = shown.as_dict() if shown else {}
    # Second lines that would only restate the first (a shape change after a shift) or describe a side effect
    # (finer grid values after scaling) are left to the per-test list.
    leading = leading[:1] + [f for f in leading[1:] if not f.details.get("finer_values") and not (
        leading[0].method == "mann_whitney" and f.method == "kolmogorov_smirnov")]
    return {"drifted": bool(drifted), "method": shown.method if shown else None,
            "statistic": numbers.get("statistic"), "effect": numbers.get("effect"),
            "effect_unit": shown.effect_unit if shown else None, "p_value": float(f"{p_value:.6g}"),
            "summary": "; ".join(f.summary for f in leading[:2]) if drifted else "no drift detected"}


def _failed_entry(exc: Exception) -> dict:
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return {"drifted": False, "method": "error", "statistic": None, "effect": None, "effect_unit": None,
            "p_value": None, "summary": f"could not be compared ({type(exc).__name__}: {detail})", "kind": "error",
            "tests": []}


def _schema_entry(in_reference: bool) -> dict:
    where = "reference" if in_reference else "current"
    summary = "column missing from the current data" if in_reference else "new column (not in the reference)"
    return {"drifted": True, "method": "schema", "statistic": None, "effect": None, "effect_unit": None,
            "p_value": None, "summary": summary, "kind": "schema", "only_in": where, "tests": []}


def _findings(ref: ColumnValues, cur: ColumnValues, kind: str) -> list[Finding]:
    findings = [presence.missing_rate(ref, cur)]
    type_finding = presence.value_type(ref, cur, kind)
    if type_finding is not None:
        findings.append(type_finding)
    if kind == NUMERIC:
        findings.extend(numeric.numeric_findings(ref, cur))
        if numeric.discrete_levels(ref):
            findings.extend(categorical.mix_findings(pd.Series(ref.finite_numbers()),
                                                     pd.Series(cur.finite_numbers())))
    elif kind == CATEGORICAL:
        findings.extend(categorical.mix_findings(ref.strings(), cur.strings()))
    elif kind in (TEXT, IDENTIFIER):
        findings.extend(text.text_findings(ref.strings(), cur.strings(), free_text=kind == TEXT))
    return findings


def _column_evidence(findings: list[Finding]) -> tuple[float, Finding | None, list[Finding]]:
    """The column's p-value (weighted Bonferroni over its detectors, relevant ones only) and the deciding one."""
    relevant = [f for f in findings if f.relevant and math.isfinite(f.p_value)]
    if not relevant:
        return 1.0, None, findings
    shares = _alpha_shares(findings)
    decisive = min(relevant, key=lambda f: (f.p_value / shares[id(f)], -f.effect / f.floor if f.floor else 0))
    return min(1.0, decisive.p_value / shares[id(decisive)]), decisive, findings


def _alpha_shares(findings: list[Finding]) -> dict[int, float]:
    """Each informative detector's share of the column's error budget (weights normalised to sum to one).

    Weighted Bonferroni stays valid for any fixed weights; the common kinds of drift (a moved distribution,
    a change in missing values, numbers turning into text, a new mix of categories) get larger shares so they
    are found with less evidence, and detectors with nothing to decide get none.
    """
    informative = [f for f in findings if f.informative]
    total = sum(_WEIGHTS.get(f.method, 1.0) for f in informative)
    return {id(f): (_WEIGHTS.get(f.method, 1.0) / total if f.informative and total else 1e-12) for f in findings}


def _leading(findings: list[Finding], alpha: float) -> list[Finding]:
    """The relevant detectors that are significant on their own (within the column), plainest first."""
    shares = _alpha_shares(findings)
    significant = [f for f in findings if f.relevant and f.p_value / shares[id(f)] <= alpha]
    if not significant:
        significant = [min((f for f in findings if f.relevant), key=lambda f: f.p_value)]
    rank = {method: i for i, method in enumerate(_SUMMARY_ORDER)}
    return sorted(significant, key=lambda f: (rank.get(f.method, len(rank)), f.p_value))


def _most_notable(findings: list[Finding]) -> Finding | None:
    finite = [f for f in findings if math.isfinite(f.p_value)]
    return min(finite, key=lambda f: f.p_value) if finite else None


def _describe(values: ColumnValues, kind: str) -> dict:
    """A few statistics of one side, for the report and the Monitoring page."""
    out = {"rows": values.rows, "missing_share": round(values.missing / values.rows, 6) if values.rows else None}
    numbers = values.finite_numbers()
    if kind == NUMERIC and len(numbers):
        q05, q50, q95 = np.quantile(numbers, [0.05, 0.5, 0.95])
        out.update(mean=float(f"{np.mean(numbers):.6g}"), median=float(f"{q50:.6g}"), p05=float(f"{q05:.6g}"),
                   p95=float(f"{q95:.6g}"), numeric_share=round(values.numeric_share, 6))
    elif kind in (CATEGORICAL, EMPTY) and values.filled:
        top = values.strings().value_counts().head(3)
        out["top_values"] = {str(k): round(v / values.filled, 4) for k, v in top.items()}
        out["distinct"] = int(values.strings().nunique())
    elif kind in (TEXT, IDENTIFIER) and values.filled:
        out["median_length"] = float(values.strings().str.len().median())
    return out
