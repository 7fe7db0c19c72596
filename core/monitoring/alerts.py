"""Alerts: a user's thresholds per metric, evaluated into open and resolved alerts.

A rule (AlertRule) belongs to the user who set it and is evaluated over what that user may see: their
datasets' runs, their jobs, their drift reports and models (the machine's resources are everyone's). An
evaluation opens an alert for a breached rule, refreshes it while it stays breached, and resolves it when
it clears, so the Overview and Monitoring pages show what is wrong now and the history stays.
The monitoring tick evaluates every owner's rules each minute; the pages also evaluate on load.
A user without rules gets DEFAULT_RULES on first use, so a drift or a collapsing run is visible at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable

import pandas as pd
from sqlalchemy import delete
from sqlmodel import select

from core import tenancy
from core.auth import Principal, get_user
from core.store.models import Dataset
from core.store.models_monitoring import AlertRule, DriftReport, MonitoringAlert
from core.store.sql import session_scope


@dataclass(frozen=True)
class Metric:
    label: str  # reads as a sentence with the threshold after it
    above: bool  # breached when the value is above (or at, for counts) the threshold; else below
    low: float
    high: float
    default: float
    per_dataset: bool = False
    unit: str = ""


METRICS: dict[str, Metric] = {
    "kept_share_below": Metric("Kept share of a dataset's latest run below", False, 0.0, 1.0, 0.3, True, "share"),
    "job_failure_rate_above": Metric("Failed share of jobs in the last 24 hours above", True, 0.0, 1.0, 0.5,
                                     unit="share"),
    "drift_columns_at_least": Metric("Drifted columns in a recent drift check at least", True, 1, 10_000, 1, True,
                                     "columns"),
    "model_accuracy_below": Metric("Accuracy of a model's newest version on labelled predictions below", False,
                                   0.0, 1.0, 0.7, unit="share"),
    "error_logs_above": Metric("Errors logged in the last hour above", True, 0, 1_000_000, 10, unit="entries"),
    "disk_percent_above": Metric("Disk use of the data directory above", True, 0, 100, 90, unit="%"),
    "memory_percent_above": Metric("Memory use of the machine above", True, 0, 100, 90, unit="%"),
}
DEFAULT_RULES = ("kept_share_below", "job_failure_rate_above", "drift_columns_at_least", "disk_percent_above")
DRIFT_WINDOW = timedelta(days=7)


class AlertRuleError(ValueError):
    """A rule that cannot be saved; the message says why."""


# -- rules --------------------------------------------------------------------------------------
def ensure_default_rules(principal: Principal) -> None:
    with session_scope() as session:
        if session.exec(select(AlertRule.id).where(AlertRule.owner_id == principal.id)).first() is not None:
            return
        session.add_all(AlertRule(owner_id=principal.id, metric=m, threshold=METRICS[m].default)
                        for m in DEFAULT_RULES)


def list_rules(principal: Principal | None) -> pd.DataFrame:
    """The principal's own rules (created with the defaults on first use)."""
    tenancy.require_supplier(principal, "see alert rules")
    ensure_default_rules(principal)
    with session_scope() as session:
        rows = session.exec(select(AlertRule, Dataset.name).join(Dataset, Dataset.id == AlertRule.dataset_id,
                                                                 isouter=True)
                            .where(AlertRule.owner_id == principal.id).order_by(AlertRule.id)).all()
        out = [{"rule_id": r.id, "metric": r.metric, "rule": METRICS[r.metric].label if r.metric in METRICS
                else r.metric, "threshold": r.threshold, "dataset": name, "enabled": r.enabled} for r, name in rows]
    return pd.DataFrame(out, columns=["rule_id", "metric", "rule", "threshold", "dataset", "enabled"])


def save_rule(principal: Principal | None, metric: str, threshold: float, *, dataset: str | None = None,
              enabled: bool = True, rule_id: int | None = None) -> dict:
    """Create a rule, or change one of the principal's (rule_id). Thresholds are checked against the metric."""
    tenancy.require_supplier(principal, "set alert rules")
    if metric not in METRICS:
        raise AlertRuleError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    spec = METRICS[metric]
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise AlertRuleError(f"The threshold must be a number, not {threshold!r}.") from None
    if not spec.low <= threshold <= spec.high:
        raise AlertRuleError(f"'{spec.label}' takes a threshold from {spec.low:g} to {spec.high:g} ({spec.unit}).")
    dataset_id = None
    if dataset:
        if not spec.per_dataset:
            raise AlertRuleError(f"'{spec.label}' is not about one dataset; leave the dataset empty.")
        dataset_id = tenancy.dataset_for(principal, dataset, action="set alerts on this dataset")["id"]
    with session_scope() as session:
        row = session.get(AlertRule, rule_id) if rule_id is not None else None
        if rule_id is not None and (row is None or row.owner_id != principal.id):
            raise tenancy.NotFoundOrDenied(f"No alert rule {rule_id} that you can change.")
        row = row or AlertRule(owner_id=principal.id, metric=metric, threshold=threshold)
        row.metric, row.threshold, row.dataset_id, row.enabled = metric, threshold, dataset_id, bool(enabled)
        row.updated_at = datetime.now(UTC)
        session.add(row)
        session.flush()
        return row.model_dump()


def delete_rule(principal: Principal | None, rule_id: int) -> None:
    tenancy.require_supplier(principal, "remove alert rules")
    with session_scope() as session:
        row = session.get(AlertRule, rule_id)
        if row is None or row.owner_id != principal.id:
            raise tenancy.NotFoundOrDenied(f"No alert rule {rule_id} that you can remove.")
        session.execute(delete(MonitoringAlert).where(MonitoringAlert.rule_id == rule_id))
        session.execute(delete(AlertRule).where(AlertRule.id == rule_id))


# -- measuring ----------------------------------------------------------------------------------
def _kept_share(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
    from core.monitoring.quality import latest_kept_share

    return [(r["kept_share"], f"{r['dataset']}: run {r['run_id']} kept {r['kept_share']:.0%}")
            for r in latest_kept_share(principal, rule.dataset_id)]


def _failure_rate(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
    from core.monitoring.pipeline import failure_rate

    rate, finished = failure_rate(principal)
    return [] if rate is None else [(rate, f"{rate:.0%} of {finished} finished job(s) failed in the last 24 hours")]


def _drift(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
    since = datetime.now(UTC) - DRIFT_WINDOW
    with session_scope() as session:
        query = (select(DriftReport, Dataset.name).join(Dataset, Dataset.id == DriftReport.dataset_id, isouter=True)
                 .where(DriftReport.created_by == principal.id, DriftReport.created_at >= since)
                 .order_by(DriftReport.id.desc()))
        if rule.dataset_id is not None:
            query = query.where(DriftReport.dataset_id == rule.dataset_id)
        latest: dict[tuple, tuple] = {}
        for report, name in session.exec(query):
            latest.setdefault((report.kind, report.dataset_id, report.model_name), (report.model_dump(), name))
    out = []
    for report, name in latest.values():
        subject = f"model {report['model_name']} on {name}" if report["model_name"] else f"dataset {name}"
        columns = ", ".join(report["drifted"][:5]) + (" ..." if len(report["drifted"]) > 5 else "")
        out.append((float(len(report["drifted"])), f"drift in {subject} ({report['kind'].replace('_', ' ')}): "
                                                   f"{len(report['drifted'])} column(s) {columns}".rstrip()))
    return out


def _accuracy(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
    from core.monitoring.accuracy import latest_accuracy

    return [(r["accuracy"], f"{r['model']} v{r['version']}: {r['accuracy']:.0%} right on {r['labelled']} labelled")
            for r in latest_accuracy(principal)]


def _errors(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
    from core.monitoring.logs import search_logs

    found = search_logs(principal, level="ERROR", since=datetime.now(UTC) - timedelta(hours=1), limit=100_000)
    return [(float(len(found)), f"{len(found)} error(s) logged in the last hour")]


def _resource(field: str, words: str) -> Callable[[Principal, AlertRule], list[tuple[float, str]]]:
    def measure(principal: Principal, rule: AlertRule) -> list[tuple[float, str]]:
        from core.monitoring.resources import latest_sample

        sample = latest_sample()
        return [] if sample is None else [(float(sample[field]), f"{words} at {sample[field]:.0f}%")]
    return measure


MEASURES = {"kept_share_below": _kept_share, "job_failure_rate_above": _failure_rate,
            "drift_columns_at_least": _drift, "model_accuracy_below": _accuracy, "error_logs_above": _errors,
            "disk_percent_above": _resource("disk_percent", "disk of the data directory"),
            "memory_percent_above": _resource("memory_percent", "memory")}


def breached(metric: str, value: float, threshold: float) -> bool:
    spec = METRICS[metric]
    if metric.endswith("_at_least"):
        return value >= threshold
    return value > threshold if spec.above else value < threshold


# -- evaluating ---------------------------------------------------------------------------------
def evaluate_alerts(principal: Principal | None) -> list[dict]:
    """Evaluate the principal's enabled rules now; returns the open alerts the principal sees afterwards."""
    tenancy.require_supplier(principal, "evaluate alerts")
    ensure_default_rules(principal)
    with session_scope() as session:
        rules = [r.model_copy() for r in session.exec(select(AlertRule).where(AlertRule.owner_id == principal.id,
                                                                              AlertRule.enabled == True))]  # noqa: E712
    now = datetime.now(UTC)
    for rule in rules:
        if rule.metric not in MEASURES:
            continue
        readings = [(v, text) for v, text in MEASURES[rule.metric](principal, rule)
                    if breached(rule.metric, v, rule.threshold)]
        _record(rule, readings, now)
    return open_alerts(principal)


def _record(rule: AlertRule, readings: list[tuple[float, str]], now: datetime) -> None:
    spec = METRICS[rule.metric]
    with session_scope() as session:
        alert = session.exec(select(MonitoringAlert).where(MonitoringAlert.rule_id == rule.id,
                                                           MonitoringAlert.status == "open")).first()
        if not readings:
            if alert is not None:
                alert.status, alert.resolved_at = "resolved", now
                session.add(alert)
            return
        worst = max(readings)[0] if spec.above else min(readings)[0]
        message = f"{spec.label} {rule.threshold:g}: " + "; ".join(text for _, text in readings[:10])
        alert = alert or MonitoringAlert(rule_id=rule.id, owner_id=rule.owner_id, metric=rule.metric,
                                         threshold=rule.threshold, raised_at=now)
        alert.value, alert.threshold, alert.message, alert.last_seen_at = worst, rule.threshold, message, now
        session.add(alert)


def open_alerts(principal: Principal | None, include_resolved: bool = False, limit: int = 100) -> list[dict]:
    """Alerts of the principal's rules (admins: everyone's), open first, newest first."""
    tenancy.require_supplier(principal, "see alerts")
    with session_scope() as session:
        query = select(MonitoringAlert).order_by(MonitoringAlert.status, MonitoringAlert.raised_at.desc()).limit(limit)
        if not include_resolved:
            query = query.where(MonitoringAlert.status == "open")
        if not tenancy.sees_everything(principal):
            query = query.where(MonitoringAlert.owner_id == principal.id)
        return [a.model_dump() for a in session.exec(query)]


def evaluate_everyone() -> int:
    """The tick's pass: evaluate the rules of every owner with enabled rules; returns how many owners."""
    with session_scope() as session:
        owners = sorted(set(session.exec(select(AlertRule.owner_id).where(AlertRule.enabled == True))))  # noqa: E712
    evaluated = 0
    for owner_id in owners:
        principal = get_user(owner_id)
        if principal is not None and principal.role in tenancy.SUPPLY_ROLES:
            evaluate_alerts(principal)
            evaluated += 1
    return evaluated
