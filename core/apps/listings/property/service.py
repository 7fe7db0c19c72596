"""Valuing a dataset's listings and reading the valuations back (the Property page, the CLI, jobs).

Write-back goes to two places, as ml/predict.py does for predictions:
- MongoDB, beside the raw documents: collection `valuations` in the item's application database, one
  document per (raw document, model, version) with the estimate, interval, flag and the comparables.
  The raw documents stay as collected (content-hashed, insert-only); re-valuing with the same version is a
  bulk delete + insert_many (per-document upserts are slow on the embedded server).
- SQL (`PropertyValuation`): the figures the listings table sorts and filters on.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import delete, insert
from sqlmodel import select

from core import audit
from core.apps.listings.property import calibration
from core.apps.listings.property.features import ValuationDataError
from core.apps.listings.property.valuation import valuation_model, value_frame
from core.auth import Principal
from core.store.models import Item
from core.store.models_listings import PropertyValuation
from core.store.raw import get_raw_store
from core.store.sql import session_scope
from core.tenancy import dataset_for, require_supplier, row_of_owned_dataset

VALUATIONS_COLLECTION = "valuations"
FLAGS = ("under", "near", "over", "no price", "not valued")
BATCH_ROWS = 2000


def value_dataset(principal: Principal | None, dataset: str, model: str | None = None,
                  version: str | int | None = None, progress=None) -> dict:
    """Value every item of `dataset` with a valuation model version and write the results back."""
    from ml.data import dataset_rows_for_scoring

    report = progress or (lambda fraction, message=None: None)
    owned = dataset_for(principal, dataset, action="value this dataset")
    record = valuation_model(principal, model, version)
    report(0.05, f"Loading the listings of {dataset}")
    frame, raw_ids = dataset_rows_for_scoring(owned["id"])
    if frame.empty:
        raise ValuationDataError(f"Dataset '{dataset}' has no listings to value.")
    now = datetime.now(UTC)
    counts = dict.fromkeys(FLAGS, 0)
    for start in range(0, len(frame), BATCH_ROWS):
        chunk = frame.iloc[start:start + BATCH_ROWS].reset_index(drop=True)
        valued = value_frame(principal, record, chunk)
        rows = [_valuation_row(row, record, owned["id"], raw_ids, principal.id, now)
                for row in valued.to_dict("records")]
        for row in rows:
            counts[row["flag"]] += 1
        _write_sql(rows, record)
        _write_raw(rows, valued["comparables"].tolist(), record, dataset)
        done = min(start + BATCH_ROWS, len(frame))
        report(0.1 + 0.85 * done / len(frame), f"Valued {done:,} of {len(frame):,} listings")
    audit.record("property.value", principal.id, f"dataset:{dataset}", model=record["model_name"],
                 version=record["model_version"], **{k.replace(" ", "_"): v for k, v in counts.items()})
    report(1.0, f"Valued {len(frame):,} listings")
    return {"dataset": dataset, "model": record["model_name"], "version": record["model_version"],
            "listings": int(len(frame)), "flags": counts}


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str) and value else None


def _valuation_row(row: dict, record: dict, dataset_id: int, raw_ids: dict, user_id: int, now: datetime) -> dict:
    estimate, low, high = _number(row.get("estimate")), _number(row.get("low")), _number(row.get("high"))
    listed = _number(row.get(record["target"]))
    reason = None
    if record["kind"] == "listings" and row.get("offer") == "rent":
        estimate = low = high = None  # a monthly rent is not a sale price: not valued, and said so
        reason = "rent listing: the model values sale prices"
    elif estimate is None:
        reason = "the model gave no estimate (missing features?)"
    flag, percent = calibration.flag(listed, estimate, low, high)
    item_id = int(row["item_id"])
    return {"dataset_id": dataset_id, "item_id": item_id, "raw_id": str(raw_ids.get(item_id, "")),
            "model_name": record["model_name"], "model_version": int(record["model_version"]),
            "title": _text(row.get("title"), 500), "url": _text(row.get("url"), 2000),
            "city": _text(row.get("city"), 200), "offer": _text(row.get("offer"), 10),
            "area_m2": _number(row.get("area_m2")), "listed_price": listed,
            "currency": _text(row.get("currency"), 10) or record.get("currency"),
            "estimate": _round(estimate), "low": _round(low), "high": _round(high), "diff_pct": percent,
            "flag": flag, "reason": reason, "created_by": user_id, "created_at": now,
            "app": row.get("source_app") or "property"}


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _write_sql(rows: list[dict], record: dict) -> None:
    columns = [c.name for c in PropertyValuation.__table__.columns if c.name != "id"]
    with session_scope() as session:
        session.execute(delete(PropertyValuation).where(
            PropertyValuation.model_name == record["model_name"],
            PropertyValuation.model_version == int(record["model_version"]),
            PropertyValuation.item_id.in_([r["item_id"] for r in rows])))
        session.execute(insert(PropertyValuation), [{c: r[c] for c in columns} for r in rows])


def _write_raw(rows: list[dict], comparables: list, record: dict, dataset: str) -> None:
    store = get_raw_store()
    by_app: dict[str, list[dict]] = {}
    for row, comps in zip(rows, comparables, strict=True):
        if not row["raw_id"]:
            continue
        document = {k: v for k, v in row.items() if k not in ("app", "created_by")}
        by_app.setdefault(row["app"], []).append({**document, "dataset": dataset, "comparables": comps,
                                                  "interval_level": record["interval_level"]})
    for app, documents in by_app.items():
        collection = store.database(app)[VALUATIONS_COLLECTION]
        collection.delete_many({"model_name": record["model_name"], "model_version": int(record["model_version"]),
                                "raw_id": {"$in": [d["raw_id"] for d in documents]}})
        collection.insert_many(documents, ordered=False)


# -- reads ----------------------------------------------------------------------------------------------
def valuation_runs(principal: Principal | None, dataset: str) -> list[dict]:
    """(model, version) pairs that valued `dataset`, newest first, with when and how many listings."""
    owned = dataset_for(principal, dataset, action="see the valuations of this dataset")
    with session_scope() as session:
        rows = session.exec(select(PropertyValuation.model_name, PropertyValuation.model_version,
                                   PropertyValuation.created_at)
                            .where(PropertyValuation.dataset_id == owned["id"])).all()
    runs: dict[tuple[str, int], dict] = {}
    for name, number, created in rows:
        entry = runs.setdefault((name, number), {"model": name, "version": number, "listings": 0,
                                                 "valued_at": created})
        entry["listings"] += 1
        entry["valued_at"] = max(entry["valued_at"], created)
    return sorted(runs.values(), key=lambda r: r["valued_at"], reverse=True)


SORTS = {"listed vs estimate (cheapest first)": (PropertyValuation.diff_pct, False),
         "listed vs estimate (dearest first)": (PropertyValuation.diff_pct, True),
         "estimate (high to low)": (PropertyValuation.estimate, True),
         "estimate (low to high)": (PropertyValuation.estimate, False),
         "listed price (low to high)": (PropertyValuation.listed_price, False)}


def valued_listings(principal: Principal | None, dataset: str, model: str, version: int, *,
                    flags: list[str] | None = None, cities: list[str] | None = None,
                    min_estimate: float | None = None, max_estimate: float | None = None,
                    sort: str = next(iter(SORTS)), limit: int = 2000) -> pd.DataFrame:
    """The dataset's listings as valued by (model, version), filtered and sorted in SQL."""
    owned = dataset_for(principal, dataset, action="see the valuations of this dataset")
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}; choose one of: {', '.join(SORTS)}.")
    query = select(PropertyValuation).where(PropertyValuation.dataset_id == owned["id"],
                                            PropertyValuation.model_name == model,
                                            PropertyValuation.model_version == int(version))
    if flags:
        query = query.where(PropertyValuation.flag.in_(flags))
    if cities:
        query = query.where(PropertyValuation.city.in_(cities))
    if min_estimate is not None:
        query = query.where(PropertyValuation.estimate >= float(min_estimate))
    if max_estimate is not None:
        query = query.where(PropertyValuation.estimate <= float(max_estimate))
    column, descending = SORTS[sort]
    # Unvalued rows (no number to sort on) go last whichever the direction.
    query = query.order_by(column.is_(None), column.desc() if descending else column.asc(), PropertyValuation.id)
    with session_scope() as session:
        rows = [r.model_dump() for r in session.exec(query.limit(limit))]
    return pd.DataFrame(rows)


def valuation_detail(principal: Principal | None, valuation_id: int) -> dict:
    """One valuation with its comparables (from the raw store, beside the listing's document)."""
    require_supplier(principal, "see valuations")
    row = row_of_owned_dataset(principal, PropertyValuation, int(valuation_id), "valuation", "see this valuation")
    with session_scope() as session:
        item = session.get(Item, row["item_id"])
        app = item.source_app if item else "property"
    document = get_raw_store().database(app)[VALUATIONS_COLLECTION].find_one(
        {"raw_id": row["raw_id"], "model_name": row["model_name"], "model_version": row["model_version"]})
    return {**row, "comparables": (document or {}).get("comparables") or [],
            "interval_level": (document or {}).get("interval_level")}


def rent_suggestion(principal: Principal | None, dataset: str, city: str | None, area_m2: float | None
                    ) -> dict | None:
    """A monthly rent for a scenario: the median rent per m² of the dataset's rent listings in the same city
    (every city when it has fewer than 3) times the area; None when there is nothing to go on."""
    owned = dataset_for(principal, dataset, action="see the valuations of this dataset")
    if not area_m2 or not area_m2 > 0:
        return None
    with session_scope() as session:
        rows = session.exec(select(PropertyValuation.item_id, PropertyValuation.city, PropertyValuation.listed_price,
                                   PropertyValuation.area_m2)
                            .where(PropertyValuation.dataset_id == owned["id"], PropertyValuation.offer == "rent",
                                   PropertyValuation.listed_price > 0, PropertyValuation.area_m2 > 0)).all()
    per_m2: dict[str | None, list[float]] = {}
    # Each rent listing once, however many model versions valued the dataset.
    for _, row_city, price, area in {row[0]: row for row in rows}.values():
        per_m2.setdefault(row_city, []).append(price / area)
    local = per_m2.get(city, [])
    basis = local if len(local) >= 3 else [v for values in per_m2.values() for v in values]
    if not basis:
        return None
    median = float(pd.Series(basis).median())
    return {"rent": round(median * float(area_m2), -1), "per_m2": round(median, 2), "listings": len(basis),
            "scope": city if basis is local else "all cities"}
