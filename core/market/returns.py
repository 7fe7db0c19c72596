"""Supplier returns: a supplier takes home the cleaned data and the quality report of their own datasets,
whether or not they sell them.

The quality report describes one refinement run: counts in and out, why items were dropped, and how
every numeric signal was distributed over all items and over the kept ones. It comes as JSON (for
programs) and as Markdown (for people); the return archive is the package version's zip with both
added under quality-report/ and its manifest.json rewritten to cover them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core import audit, tenancy
from core.auth import Principal
from core.market.bundles import bundle_bytes
from core.market.downloads import DownloadError
from core.packaging.dataset_card import escape_markdown
from core.refine.runs import run_detail, run_tables

REPORT_DIR = "quality-report"
REPORT_JSON = f"{REPORT_DIR}/quality_report.json"
REPORT_MARKDOWN = f"{REPORT_DIR}/quality_report.md"
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
MAX_CATEGORIES = 20
# Identifiers and decision columns, not signals.
_NOT_SIGNALS = {"id", "kept", "run_id", "item_id", "created_at", "source_id", "url", "title", "drop_reason"}


def _numeric_summary(values: pd.Series) -> dict:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return {"count": 0}
    summary = {"count": int(len(values)), "mean": float(values.mean()), "min": float(values.min()),
               "max": float(values.max())}
    summary.update({name: float(values.quantile(q)) for name, q in QUANTILES.items()})
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()}


def _signal_distributions(table: pd.DataFrame) -> dict:
    kept = table["kept"].fillna(False).astype(bool) if "kept" in table else pd.Series(True, index=table.index)
    numeric, categorical = {}, {}
    for column in sorted(set(table.columns) - _NOT_SIGNALS):
        series = table[column]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            numeric[column] = {"all": _numeric_summary(series.astype(float)),
                               "kept": _numeric_summary(series[kept].astype(float))}
        elif column in ("language", "topic_label", "content_type"):
            counts = series.fillna("unknown").astype(str).value_counts().head(MAX_CATEGORIES)
            categorical[column] = {str(k): int(v) for k, v in counts.items()}
    return {"numeric": numeric, "categorical": categorical}


def quality_report(principal: Principal, run_id: int) -> dict:
    """The quality report of one of the principal's refinement runs (tenancy-checked)."""
    run = run_detail(principal, run_id)
    if run["status"] != "succeeded":
        raise DownloadError(f"Run {run_id} is {run['status']}; only a finished run has a quality report.")
    table = run_tables(principal, run_id)
    dropped = table.loc[~table["kept"].fillna(False).astype(bool), "drop_reason"].fillna("unknown").astype(str)
    counts = run.get("counts") or {}
    return {
        "run": {"run_id": run_id, "dataset": run["dataset"], "created_at": str(run["created_at"]),
                "code_version": run.get("code_version") or "", "recipe_hash": run.get("recipe_hash") or ""},
        "counts": {"input": int(counts.get("input", len(table))), "kept": int(counts.get("kept", 0)),
                   "dropped": int(counts.get("dropped", len(dropped)))},
        "dropped_by_rule": {str(k): int(v) for k, v in (counts.get("dropped_by_rule") or {}).items()},
        "drop_reasons": {str(k): int(v) for k, v in dropped.value_counts().items()},
        "metrics": json.loads(json.dumps(run.get("metrics") or {}, default=_plain)),
        "signals": _signal_distributions(table),
    }


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def quality_report_markdown(report: dict) -> str:
    """The report for people: the same numbers as the JSON, as Markdown tables."""
    run, counts = report["run"], report["counts"]
    share = counts["kept"] / counts["input"] if counts["input"] else 0.0
    lines = [f"# Quality report: {escape_markdown(run['dataset'])}, run {run['run_id']}", "",
             f"Run of {escape_markdown(run['created_at'])}, code {escape_markdown(run['code_version'] or 'unknown')}.",
             "", f"- Items in: {counts['input']:,}", f"- Kept: {counts['kept']:,} ({share:.1%})",
             f"- Dropped: {counts['dropped']:,}", "", "## Why items were dropped", ""]
    if report["drop_reasons"]:
        lines += ["| reason | items |", "|---|---|"]
        lines += [f"| {escape_markdown(reason, 120)} | {n:,} |" for reason, n in report["drop_reasons"].items()]
    else:
        lines.append("Nothing was dropped.")
    lines += ["", "## Signal distributions", "", "| signal | items | mean | p10 | median | p90 | mean (kept) |",
              "|---|---|---|---|---|---|---|"]
    for name, summary in report["signals"]["numeric"].items():
        every, kept = summary["all"], summary["kept"]
        cells = [f"{every[k]:.3g}" if k in every else "" for k in ("mean", "p10", "p50", "p90")]
        cells.append(f"{kept['mean']:.3g}" if "mean" in kept else "")
        lines.append(f"| {escape_markdown(name)} | {every['count']:,} | " + " | ".join(cells) + " |")
    for name, counts_by_value in report["signals"]["categorical"].items():
        lines += ["", f"### {escape_markdown(name)}", "", "| value | items |", "|---|---|"]
        lines += [f"| {escape_markdown(value, 80)} | {n:,} |" for value, n in counts_by_value.items()]
    return "\n".join(lines) + "\n"


def supplier_return(principal: Principal, package_id: int) -> tuple[str, bytes]:
    """(file name, zip) of the supplier's own package version with its run's quality report added; no sale
    or listing needed. Anyone but the dataset's owner or an admin gets the tenancy check's refusal."""
    package = tenancy.package_for(principal, package_id, action="download this package")
    if package.get("status") != "published" or not package.get("path"):
        raise DownloadError("Only a published version can be downloaded; build it again if its build failed.")
    extras = {}
    if package.get("run_id"):
        report = quality_report(principal, package["run_id"])
        extras = {REPORT_JSON: (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                  REPORT_MARKDOWN: quality_report_markdown(report).encode("utf-8")}
    archive = bundle_bytes(package["path"], extras)
    audit.record("supplier_return", principal.id, f"package:{package['name']}@{package['version']}",
                 run_id=package.get("run_id"))
    return f"{package['name']}-{package['version']}-with-quality-report.zip", archive
