"""The valuation table: scraped property listings or uploaded sales as model-ready columns.

Two kinds of training data:
- `listings`: items scraped from property sites (price, area, beds, baths, a location line, attributes,
  a title that says "for sale" or "for rent"). They become the fixed columns LISTING_FEATURES plus the
  offer; only sale listings are valued (a monthly rent is not a price).
- `table`: uploaded sales (such as the Ames house prices): every column is a candidate feature; numbers
  that arrived as text (uploads keep CSV cells as strings) are turned back into numbers.
Prices far outside the rest (a sale price typed in thousands, a placeholder of 1) are dropped from
training with a note, so one typo does not bend the model; valuing them later flags them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ml.data import as_dict

LISTING_FEATURES = ["area_m2", "beds", "baths", "property_type", "city", "district"]
LISTING_TARGET = "price"
# Item bookkeeping that is never a feature (ml.columns would drop most, but not all, of them on its own).
ITEM_COLUMNS = ("id", "item_id", "raw_id", "source_id", "source_app", "data_type", "url", "title", "text",
                "created_at", "content_hash", "dataset_id", "images", "seller", "posted_date", "location",
                "attributes", "availability", "currency", "description", "fields.title", "fields.url")
_RENT_WORDS = re.compile(r"\b(for rent|to rent|to let|per month|/\s*month|monthly)\b", re.IGNORECASE)
_TYPES = ("apartment", "house", "flat", "studio", "villa", "townhouse", "condo", "loft", "bungalow")
NUMERIC_SHARE = 0.95  # a text column is numeric when this share of its non-empty cells parse as numbers
OUTLIER_MADS = 5.0  # robust z-score (in scaled MADs of log price per unit) beyond which a price is a typo


class ValuationDataError(ValueError):
    """The table cannot train or be valued as asked; the message says what to fix."""


def is_listing_table(frame: pd.DataFrame) -> bool:
    """Scraped property listings (a price and an area or rooms) rather than an uploaded sales table."""
    return "price" in frame.columns and bool({"area_m2", "beds", "attributes"} & set(frame.columns))


def default_target(frame: pd.DataFrame) -> str:
    for name in ("price", "SalePrice", "sale_price", "saleprice", "Price"):
        if name in frame.columns:
            return name
    raise ValuationDataError("No price column found (price, SalePrice); name the target column.")


def listing_features(frame: pd.DataFrame) -> pd.DataFrame:
    """LISTING_FEATURES + offer + price (+ item bookkeeping) from flattened listing items or plain fields."""
    out = pd.DataFrame(index=frame.index)
    attributes = [as_dict(v) for v in frame.get("attributes", pd.Series([None] * len(frame), index=frame.index))]
    for column in ("area_m2", "beds", "baths"):
        given = frame[column] if column in frame.columns else pd.Series(np.nan, index=frame.index)
        from_attributes = pd.Series([a.get(column) for a in attributes], index=frame.index)
        out[column] = pd.to_numeric(given.where(given.notna(), from_attributes), errors="coerce")
    titles = frame["title"].fillna("").astype(str) if "title" in frame.columns else pd.Series("", index=frame.index)
    out["property_type"] = [_property_type(a, t, row) for a, t, row in
                            zip(attributes, titles, _column(frame, "property_type"), strict=True)]
    places = [_place(loc, t) for loc, t in zip(_column(frame, "location"), titles, strict=True)]
    out["city"] = [_given(c) or p[0] for c, p in zip(_column(frame, "city"), places, strict=True)]
    out["district"] = [_given(d) or p[1] for d, p in zip(_column(frame, "district"), places, strict=True)]
    out["offer"] = [_offer(t, o) for t, o in zip(titles, _column(frame, "offer"), strict=True)]
    out[LISTING_TARGET] = pd.to_numeric(frame[LISTING_TARGET], errors="coerce") if LISTING_TARGET in frame.columns \
        else np.nan
    for column in ("item_id", "raw_id", "title", "url", "currency", "source_app"):
        if column in frame.columns:
            out[column] = frame[column]
    return out


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _given(value) -> str | None:
    return str(value).strip() if isinstance(value, str) and value.strip() else None


def _property_type(attributes: dict, title: str, given) -> str | None:
    text = _given(given) or _given(attributes.get("property_type")) or _given(attributes.get("type"))
    if text:
        return text.lower()
    lowered = title.lower()
    return next((kind for kind in _TYPES if kind in lowered), None)


def _place(location, title: str) -> tuple[str | None, str | None]:
    """(city, district) from "street, district, city" or from a title ending "in City, District"."""
    if isinstance(location, str) and location.count(",") >= 2:
        parts = [p.strip() for p in location.split(",")]
        return parts[-1] or None, parts[-2] or None
    match = re.search(r"\bin ([^,]+),\s*(.+)$", title)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    if isinstance(location, str) and "," in location:
        district, city = (p.strip() for p in location.rsplit(",", 1))
        return city or None, district or None
    return (_given(location), None)


def _offer(title: str, given) -> str:
    text = (_given(given) or "").lower()
    if text in ("sale", "rent"):
        return text
    # A listing that does not say it is for rent is taken as a sale (most titles say neither).
    return "rent" if _RENT_WORDS.search(title) else "sale"


def numeric_text_to_numbers(frame: pd.DataFrame, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Text columns whose cells are nearly all numbers become numeric (uploaded CSV cells arrive as strings)."""
    frame = frame.copy()
    for column in frame.columns:
        # pandas 3 gives text columns the "str" dtype, older ones object: anything not yet numeric is a candidate.
        if column in keep or pd.api.types.is_numeric_dtype(frame[column]) or \
                pd.api.types.is_datetime64_any_dtype(frame[column]):
            continue
        cells = frame[column].dropna().astype(str).str.strip()
        cells = cells[(cells != "") & (cells.str.upper() != "NA")]
        if cells.empty:
            continue
        parsed = pd.to_numeric(cells, errors="coerce")
        if parsed.notna().mean() >= NUMERIC_SHARE:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def table_features(frame: pd.DataFrame, target: str | None) -> pd.DataFrame:
    """An uploaded sales table with numbers as numbers and the item bookkeeping set aside (kept for display)."""
    frame = numeric_text_to_numbers(frame)
    if target and target in frame.columns:
        frame[target] = pd.to_numeric(frame[target], errors="coerce")
    return frame


DISPLAY_COLUMNS = ("title", "url", "item_id")


def training_table(frame: pd.DataFrame, target: str | None
                   ) -> tuple[pd.DataFrame, str, str, list[str], pd.DataFrame]:
    """(table with features and target only, target, kind, notes, display) ready for ml.modelling.fit_model;
    `display` holds the rows' title, url and item id (shown with comparables, never features)."""
    notes: list[str] = []
    if is_listing_table(frame) and (target in (None, LISTING_TARGET)):
        table, target, kind = listing_features(frame), LISTING_TARGET, "listings"
        rent = table["offer"] == "rent"
        if rent.any():
            notes.append(f"{int(rent.sum())} rent listing(s) left out: the model values sale prices.")
        table = table[~rent]
        features = LISTING_FEATURES
    else:
        target = target or default_target(frame)
        if target not in frame.columns:
            raise ValuationDataError(f"The data has no column '{target}'; choose the price column.")
        table, kind = table_features(frame, target), "table"
        features = [c for c in table.columns if c != target and c not in ITEM_COLUMNS]
    priced = pd.to_numeric(table[target], errors="coerce")
    usable = priced.notna() & (priced > 0)
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} row(s) without a positive {target} left out.")
    table = table[usable]
    table, dropped = drop_price_outliers(table, target, "area_m2" if kind == "listings" else None)
    if dropped:
        notes.append(f"{dropped} row(s) with a price far from the rest (a typo?) left out of training.")
    if len(table) < 10:
        raise ValuationDataError(f"Only {len(table)} usable priced row(s); a valuation model needs at least 10 sales.")
    display = table[[c for c in DISPLAY_COLUMNS if c in table.columns]].reset_index(drop=True)
    return table[features + [target]].reset_index(drop=True), target, kind, notes, display


def drop_price_outliers(table: pd.DataFrame, target: str, per: str | None) -> tuple[pd.DataFrame, int]:
    """Rows whose log price (per unit of `per` when given) is more than OUTLIER_MADS robust deviations out."""
    price = table[target].astype(float)
    if per and per in table.columns:
        unit = pd.to_numeric(table[per], errors="coerce")
        price = price / unit.where(unit > 0)
    logged = np.log(price)
    centre = logged.median()
    spread = 1.4826 * (logged - centre).abs().median()
    if not np.isfinite(spread) or spread == 0:
        return table, 0
    outlying = ((logged - centre).abs() / spread > OUTLIER_MADS).fillna(False)
    return table[~outlying], int(outlying.sum())


def scoring_table(frame: pd.DataFrame, kind: str, target: str) -> pd.DataFrame:
    """The rows to value, in the shape the model of `kind` was trained on (plus bookkeeping columns)."""
    return listing_features(frame) if kind == "listings" else table_features(frame, target)
