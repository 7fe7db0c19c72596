"""A suggested price: the property valuation for property drafts, otherwise the median of comparable listings.

Comparables are the listings the user may see: their marketplace raw documents (as scraped, latest version per
URL) and the listing items of their datasets, so a supplier's suggestion never rests on another supplier's data.
Prices in another currency are left out (no conversion is guessed) and gross outliers (a typo'd extra zero, a
1-euro placeholder) are dropped with a robust z-score on log prices before the median is taken. The suggestion
always carries the number of comparables and their spread (interquartile range), or a note saying why there is
none.
"""

from __future__ import annotations

import math
from statistics import median, quantiles

from core.apps.listings.bot.categories import CATEGORIES, PROPERTY, category_of
from core.auth import Principal
from core.refine.signals.listing_checks import MAD_TO_SIGMA, MIN_SCORABLE, OUTLIER_Z
from core.tenancy import require_supplier, scoped_query, visible_dataset_ids

MAX_COMPARABLES = 5000
SAME_BRAND_MINIMUM = 5  # below this many same-brand comparables, the whole category is the better guide


def _matches_category(value, category: str) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip().lower()
    wanted = CATEGORIES[category]
    return text in (wanted.name, wanted.label.lower()) or text.rstrip("s") == wanted.name.rstrip("s")


def _raw_comparables(principal: Principal, app: str) -> dict[str, dict]:
    from core.store.raw import get_raw_store

    query = scoped_query(principal, {"metadata.kind": "listing"}, action="price a listing draft")
    docs = get_raw_store().find(app, query, limit=MAX_COMPARABLES,
                                projection={"url": 1, "metadata": 1})  # the embedded server ignores dotted projections
    found: dict[str, dict] = {}
    for doc in docs:  # newest first: the first version of a URL is its current price
        extracted = (doc.get("metadata") or {}).get("extracted") or {}
        found.setdefault(doc.get("url") or doc["_id"], {**extracted, **(extracted.get("attributes") or {})})
    return found


def _item_comparables(principal: Principal, app: str) -> dict[str, dict]:
    from sqlmodel import select

    from core.store.models import Item
    from core.store.sql import session_scope

    dataset_ids = visible_dataset_ids(principal)
    query = select(Item.url, Item.raw_id, Item.fields).where(Item.source_app == app, Item.data_type == "listing")
    if dataset_ids is not None:
        query = query.where(Item.dataset_id.in_(dataset_ids or [-1]))
    with session_scope() as session:
        rows = session.exec(query.order_by(Item.id.desc()).limit(MAX_COMPARABLES)).all()
    return {url or raw_id: dict(fields or {}) for url, raw_id, fields in rows}


def comparables(principal: Principal, app: str) -> list[dict]:
    """The listings of `app` the principal may use, one per URL (the raw store's newest version first)."""
    merged = _item_comparables(principal, app)
    merged.update(_raw_comparables(principal, app))
    return list(merged.values())


def _price_of(listing: dict) -> tuple[float | None, str | None]:
    from core.sources.standardize import parse_price

    amount, currency = parse_price(listing.get("price"))
    currency = listing.get("currency") or currency
    return (amount if amount and amount > 0 else None), (str(currency).upper() if currency else None)


def _without_outliers(values: list[float]) -> list[float]:
    logs = [math.log(v) for v in values]
    centre = median(logs)
    mad = median(abs(x - centre) for x in logs)
    if mad == 0:
        return values
    return [v for v, x in zip(values, logs, strict=True) if abs(MAD_TO_SIGMA * (x - centre) / mad) <= OUTLIER_Z]


def _summary(values: list[float], basis: str, currency: str, dropped: int) -> dict:
    q1, _, q3 = quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"method": "category_median", "estimate": round(median(values), 2), "low": round(q1, 2),
            "high": round(q3, 2), "currency": currency, "comparables": len(values), "outliers_dropped": dropped,
            "spread": round(q3 - q1, 2), "basis": basis,
            "note": f"Median of {len(values)} comparable {basis} listings in your data "
                    f"(middle half {q1:,.0f}–{q3:,.0f} {currency}"
                    + (f"; {dropped} outlier price{'s' if dropped != 1 else ''} left out" if dropped else "") + ")."}


def category_median(principal: Principal, fields: dict) -> dict:
    category = category_of(fields.get("category")).name
    currency = fields.get("currency")
    priced = []
    for listing in comparables(principal, "marketplace"):
        if not _matches_category(listing.get("category"), category):
            continue
        amount, listed_currency = _price_of(listing)
        if amount is not None:
            priced.append((amount, listed_currency or "EUR", str(listing.get("brand") or "").lower()))
    if currency is None and priced:  # no currency given: the one most comparables are in
        currency = max({c for _, c, _ in priced}, key=lambda c: sum(1 for _, x, _ in priced if x == c))
    currency = currency or "EUR"
    same_currency = [(a, b) for a, c, b in priced if c == currency]
    label = CATEGORIES[category].label.lower()
    brand = str(fields.get("brand") or "").lower()
    same_brand = [a for a, b in same_currency if brand and b == brand]
    values, basis = ((same_brand, f"{fields['brand']} {label}") if len(same_brand) >= SAME_BRAND_MINIMUM
                     else ([a for a, _ in same_currency], label))
    kept = _without_outliers(values) if len(values) >= MIN_SCORABLE else values
    if len(kept) < MIN_SCORABLE:
        return {"method": "none", "estimate": None, "currency": currency, "comparables": len(kept),
                "note": f"No price suggested: {len(kept)} comparable {label} listing(s) priced in {currency} in "
                        f"your data; at least {MIN_SCORABLE} are needed. Scrape or upload more listings."}
    return _summary(kept, basis, currency, len(values) - len(kept))


def _valuation_function():
    """The Property analysis app's `estimate_for_fields`, or None where that app is not installed."""
    try:
        from core.apps.listings.property.valuation import estimate_for_fields
    except ImportError:
        return None
    return estimate_for_fields


def property_valuation(principal: Principal, fields: dict) -> dict:
    """The property valuation model's estimate and interval, or a note saying why there is none."""
    currency = fields.get("currency") or "EUR"
    if fields.get("listing_type") == "rent":
        return {"method": "none", "estimate": None, "currency": currency, "comparables": 0,
                "note": "No price suggested: the property valuation estimates sale prices, not rents."}
    estimate_for_fields = _valuation_function()
    if estimate_for_fields is None:
        return {"method": "none", "estimate": None, "currency": currency, "comparables": 0,
                "note": "No price suggested: the property valuation is not available in this installation."}
    try:
        result = estimate_for_fields(principal, fields)
    except Exception as exc:  # noqa: BLE001 - no trained model, missing features...: the draft goes on without
        return {"method": "none", "estimate": None, "currency": currency, "comparables": 0,
                "note": f"No price suggested by the property valuation: {str(exc).rstrip('.')}. "
                        "Enter the price yourself."}
    estimate = result.get("estimate") if isinstance(result, dict) else None
    if estimate is None:
        reason = (result or {}).get("note") or (result or {}).get("error") or "no estimate returned"
        return {"method": "none", "estimate": None, "currency": currency, "comparables": 0,
                "note": f"No price suggested: {reason}."}
    comparables_used = result.get("comparables")
    count = len(comparables_used) if isinstance(comparables_used, list) else int(comparables_used or 0)
    low, high = result.get("low"), result.get("high")
    model = result.get("model") or result.get("model_name") or "the valuation model"
    if result.get("version") is not None:
        model = f"{model} v{result['version']}"
    return {"method": "property_valuation", "estimate": round(float(estimate), 2),
            "low": None if low is None else round(float(low), 2),
            "high": None if high is None else round(float(high), 2),
            "currency": result.get("currency") or currency, "comparables": count,
            "spread": None if low is None or high is None else round(float(high) - float(low), 2),
            "basis": str(model),
            "note": f"Estimate of {model}" + (f" ({_level(result)}interval {float(low):,.0f}–{float(high):,.0f})"
                                               if low is not None and high is not None else "")
                    + (f", {count} comparable sales" if count else "") + "."}


def _level(result: dict) -> str:
    level = result.get("interval_level")
    try:
        return f"{float(level):.0%} " if level is not None else ""
    except (TypeError, ValueError):
        return ""


def suggest_price(principal: Principal, fields: dict) -> dict:
    """{method, estimate, low, high, currency, comparables, spread, note}; estimate None with a note if none."""
    require_supplier(principal, "price a listing draft")
    if category_of(fields.get("category")).name == PROPERTY:
        return property_valuation(principal, fields)
    return category_median(principal, fields)
