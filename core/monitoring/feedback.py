"""User feedback and corrections: the good/bad labels given in the Raw Explorer, by whom, and their effect.

"How they changed decisions": for every labelled item, its refinement decision in the last run before
the label against the first run after it (the quality model learns from labels, and a `learned_quality`
rule then keeps or drops differently), and whether the latest decision now agrees with the label
(good and kept, or bad and dropped).
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.store.models import Dataset, Feedback, Item, RefinementRecord, RefinementRun, User
from core.store.sql import get_engine

LABEL_COLUMNS = ["labelled_at", "label", "by", "dataset", "item_id", "title", "before", "after", "latest",
                 "agrees", "change"]


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def feedback_table(principal: Principal | None, dataset: str | None = None) -> pd.DataFrame:
    """One row per label on the principal's items (admins: all), newest first, with its decision effect."""
    tenancy.require_supplier(principal, "see feedback")
    query = (select(Feedback.created_at, Feedback.label, User.display_name, Dataset.name, Item.id, Item.title)
             .join(Item, (Item.raw_id == Feedback.raw_id) & (Item.source_app == Feedback.app))
             .join(Dataset, Dataset.id == Item.dataset_id).join(User, User.id == Feedback.user_id))
    if not tenancy.sees_everything(principal):
        query = query.where(Dataset.created_by == principal.id)
    if dataset:
        query = query.where(Dataset.name == dataset)
    with get_engine().connect() as connection:
        labels = pd.DataFrame(connection.execute(query).all(),
                              columns=["labelled_at", "label", "by", "dataset", "item_id", "title"])
        if labels.empty:
            return pd.DataFrame(columns=LABEL_COLUMNS)
        decisions = pd.DataFrame(connection.execute(
            select(RefinementRecord.item_id, RefinementRecord.kept, RefinementRun.created_at)
            .join(RefinementRun, RefinementRun.id == RefinementRecord.run_id)
            .where(RefinementRun.status == "succeeded",
                   RefinementRecord.item_id.in_([int(i) for i in labels["item_id"].unique()]))).all(),
            columns=["item_id", "kept", "run_at"])
    labels["labelled_at"] = _utc(labels["labelled_at"])
    decisions["run_at"] = _utc(decisions["run_at"]) if len(decisions) else decisions["run_at"]
    by_item = {item: group.sort_values("run_at") for item, group in decisions.groupby("item_id")}
    effects = [_effect(row.label, row.labelled_at, by_item.get(row.item_id)) for row in labels.itertuples()]
    table = pd.concat([labels.reset_index(drop=True), pd.DataFrame(effects)], axis=1)
    return table[LABEL_COLUMNS].sort_values("labelled_at", ascending=False).reset_index(drop=True)


def _word(kept) -> str | None:
    return None if kept is None else ("kept" if bool(kept) else "dropped")


def _effect(label: str, labelled_at, runs: pd.DataFrame | None) -> dict:
    if runs is None or runs.empty:
        return {"before": None, "after": None, "latest": None, "agrees": None, "change": "never refined"}
    before = runs[runs["run_at"] <= labelled_at]
    after = runs[runs["run_at"] > labelled_at]
    was = _word(before["kept"].iat[-1]) if len(before) else None
    now = _word(after["kept"].iat[0]) if len(after) else None
    latest = _word(runs["kept"].iat[-1])
    agrees = (label == "good") == (latest == "kept") if label in ("good", "bad") else None
    if now is None:
        change = "no run since the label"
    elif was is None:
        change = f"first refined after the label: {now}"
    else:
        change = "unchanged" if was == now else f"{was} -> {now}"
    return {"before": was, "after": now, "latest": latest, "agrees": agrees, "change": change}


def feedback_summary(principal: Principal | None, dataset: str | None = None) -> dict:
    """{"labels": the table above, "by_person": labels per person and label, "changes": decision changes,
    "agreement": share of labelled items whose latest decision agrees with the label (None when none)}."""
    table = feedback_table(principal, dataset)
    by_person = (table.groupby(["by", "label"]).size().unstack(fill_value=0).reset_index()
                 if len(table) else pd.DataFrame(columns=["by"]))
    changes = (table.groupby("change").size().rename("labels").reset_index()
               if len(table) else pd.DataFrame(columns=["change", "labels"]))
    judged = table["agrees"].dropna()
    return {"labels": table, "by_person": by_person, "changes": changes,
            "agreement": float(judged.astype(bool).mean()) if len(judged) else None}
