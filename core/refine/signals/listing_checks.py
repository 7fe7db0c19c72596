"""Listing checks: missing required fields, field errors, price per unit and robust price outliers.

Listing fields arrive typed by core.sources.standardize, but uploads and old scrapes still bring prices
like "12,5 EUR", None, "abc" or lists; every value is read defensively and a bad one becomes a named
error on its row, never an exception for the batch. The per-row work is only pulling values out of the
field dicts; the checks and the outlier statistics are vectorized with pandas.

Outliers: a robust z-score, 0.6745 * (x - median) / MAD, of log(price per unit) within listings of the
same (source_app, category). Groups smaller than MIN_GROUP_SIZE borrow the statistics of their source_app,
then of the whole batch (prices per m2 and per item apart), so a lone category still gets a score.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
from babel.numbers import list_currencies

from core.sources.standardize import normalize_currency, parse_price

PROPERTY_APPS = frozenset({"property"})
PROPERTY_CATEGORIES = frozenset({"property", "real estate", "real_estate", "apartment", "apartments", "flat",
                                 "flats", "house", "houses", "condo", "studio", "room", "villa", "townhouse",
                                 "land", "rental", "rentals", "for rent", "for sale", "commercial property"})
MAX_BEDS = 50
MIN_GROUP_SIZE = 8
MIN_SCORABLE = 3  # fewer comparable prices than this give no meaningful median or spread
OUTLIER_Z = 3.5
FUTURE_TOLERANCE = timedelta(days=1)  # a listing dated "tomorrow" is usually a time-zone difference
ISO_CURRENCIES = frozenset(list_currencies())  # ISO 4217, current and historical, from CLDR via Babel
DATE_KEYS = ("posted_date", "posted_at", "date_posted", "posted", "published_at")
MAD_TO_SIGMA = 0.6745  # MAD of a normal distribution is 0.6745 sigma (Iglewicz and Hoaglin)
MEAN_AD_TO_SIGMA = 0.7979  # mean absolute deviation of a normal distribution, used when MAD is 0

_NEGATIVE_TEXT = re.compile(r"^\s*[-−]")


def listing_signals(items: pd.DataFrame, *, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per item: listing_missing_fields, listing_field_errors (";"-joined), price_per_unit,
    price_outlier_score (robust z) and price_outlier. Rows that are not listings get 0, "", NaN, NaN, False.

    `now` is when "posted in the future" is judged (naive means UTC); tests pin it, callers use the clock.
    """
    values = _field_values(items)
    parsed = _parsed_values(values)
    is_listing = values["data_type"].eq("listing").to_numpy()
    is_property = (values["source_app"].str.lower().isin(PROPERTY_APPS)
                   | values["category"].isin(PROPERTY_CATEGORIES)).to_numpy()
    price_per_unit = _price_per_unit(parsed, is_property)
    scores = robust_log_z(price_per_unit, values["source_app"], values["category"], pd.Series(is_property))
    frame = pd.DataFrame({
        "listing_missing_fields": np.where(is_listing, _missing_field_counts(values, parsed, is_property), 0),
        "listing_field_errors": np.where(is_listing, _field_errors(values, parsed, _utc(now)), ""),
        "price_per_unit": np.where(is_listing, price_per_unit, np.nan),
        "price_outlier_score": np.where(is_listing, scores, np.nan),
    }, index=items.index)
    frame["price_outlier"] = frame["price_outlier_score"].abs().gt(OUTLIER_Z)
    return frame.astype({"listing_missing_fields": "int64", "listing_field_errors": "str",
                         "price_per_unit": "float64", "price_outlier_score": "float64",
                         "price_outlier": "bool"})


def robust_log_z(values: pd.Series, source_apps: pd.Series, categories: pd.Series,
                 units: pd.Series | None = None) -> np.ndarray:
    """Robust z of log(value) within (source_app, category), falling back to source_app, then to all values
    of the same unit (`units`, e.g. per m2 vs per item: they are never compared with each other).

    Non-positive or missing values get NaN. A level is used once it holds enough comparable values.
    """
    frame = pd.DataFrame({"x": np.log(values.where(values > 0)).to_numpy(), "app": source_apps.to_numpy(),
                          "category": categories.to_numpy(),
                          "unit": 0 if units is None else units.to_numpy()})
    z = np.full(len(frame), np.nan)
    undecided = frame["x"].notna().to_numpy(copy=True)
    levels = ((["unit", "app", "category"], MIN_GROUP_SIZE), (["unit", "app"], MIN_GROUP_SIZE),
              (["unit"], MIN_SCORABLE))
    for keys, min_size in levels:
        grouped = frame.groupby(keys, sort=False)["x"]
        offset = frame["x"] - grouped.transform("median")
        deviation = offset.abs().groupby([frame[key] for key in keys], sort=False)
        use = undecided & (grouped.transform("count").to_numpy() >= min_size)
        z[use] = _scaled(offset, deviation.transform("median"), deviation.transform("mean"))[use]
        undecided &= ~use
    return z


def _scaled(offset: pd.Series, mad: pd.Series, mean_ad: pd.Series) -> np.ndarray:
    """offset / spread, the spread being MAD, or the mean absolute deviation when over half the values tie."""
    with np.errstate(divide="ignore", invalid="ignore"):
        by_mad = (MAD_TO_SIGMA * offset / mad).to_numpy()
        by_mean = (MEAN_AD_TO_SIGMA * offset / mean_ad).to_numpy()
    return np.where(mad.to_numpy() > 0, by_mad, np.where(mean_ad.to_numpy() > 0, by_mean, 0.0))


def _field_values(items: pd.DataFrame) -> pd.DataFrame:
    """One row per item with the raw listing values pulled out of `fields` (the only per-row Python)."""
    fields = [_as_mapping(value) for value in _column(items, "fields")]

    def pick(*keys: str) -> list:
        return [_first_present(mapping, keys) for mapping in fields]

    def text(values: list) -> list[str]:
        return [value.strip() if isinstance(value, str) else "" for value in values]

    return pd.DataFrame({
        "data_type": text(_column(items, "data_type")),
        "source_app": text(_column(items, "source_app")),
        "title": [title if _is_present(title) else _first_present(mapping, ("title",))
                  for title, mapping in zip(_column(items, "title"), fields, strict=True)],
        "price": pick("price"),
        "currency": pick("currency"),
        "location": pick("location", "address", "city"),
        "category": [value.lower() for value in text(pick("category"))],
        "beds": pick("beds", "bedrooms"),
        "area": pick("area_m2"),
        "posted": pick(*DATE_KEYS),
        "fields_malformed": [mapping is None for mapping in fields],
    }, index=items.index).astype({"data_type": "str", "source_app": "str", "category": "str"})


def _parsed_values(values: pd.DataFrame) -> pd.DataFrame:
    prices = pd.DataFrame(values["price"].map(_parse_price).tolist(), index=values.index,
                          columns=["amount", "currency_in_price", "price_malformed"])
    beds, beds_malformed = _numbers(values["beds"])
    area, area_malformed = _numbers(values["area"])
    return prices.assign(
        beds=beds, beds_malformed=beds_malformed, area=area, area_malformed=area_malformed,
        currency=values["currency"].map(lambda code: normalize_currency(code) if _is_present(code) else None),
        posted=_dates(values["posted"]),
    ).astype({"amount": "float64", "price_malformed": "bool"})


def _field_errors(values: pd.DataFrame, parsed: pd.DataFrame, now: pd.Timestamp) -> np.ndarray:
    """The names of the checks each row fails, ";"-joined (vectorized over rows, one pass per check)."""
    present = {column: values[column].map(_is_present) for column in ("currency", "posted")}
    checks = {
        "fields_not_a_mapping": values["fields_malformed"],
        "price_not_number": parsed["price_malformed"],
        "price_not_positive": parsed["amount"].le(0),
        "currency_unknown": present["currency"] & ~parsed["currency"].isin(ISO_CURRENCIES),
        "beds_not_number": parsed["beds_malformed"],
        "beds_out_of_range": parsed["beds"].gt(MAX_BEDS) | parsed["beds"].lt(0),
        "area_not_number": parsed["area_malformed"],
        "area_not_positive": parsed["area"].le(0),
        "posted_date_unparseable": present["posted"] & parsed["posted"].isna(),
        "posted_date_in_future": parsed["posted"].gt(now + FUTURE_TOLERANCE),
    }
    joined = np.full(len(values), "", dtype=object)
    for name, failed in checks.items():
        failed = failed.to_numpy(dtype=bool)
        joined[failed] = np.where(joined[failed] == "", name, joined[failed] + ";" + name)
    return joined


def _missing_field_counts(values: pd.DataFrame, parsed: pd.DataFrame, is_property: np.ndarray) -> np.ndarray:
    def absent(column: pd.Series) -> np.ndarray:
        return (~column.map(_is_present)).to_numpy(dtype=int)

    has_currency = values["currency"].map(_is_present) | parsed["currency_in_price"].map(_is_present)
    has_size = values["area"].map(_is_present) | values["beds"].map(_is_present)
    missing = absent(values["title"]) + absent(values["price"]) + (~has_currency).to_numpy(dtype=int)
    return missing + np.where(is_property, absent(values["location"]) + (~has_size).to_numpy(dtype=int), 0)


def _price_per_unit(parsed: pd.DataFrame, is_property: np.ndarray) -> pd.Series:
    """Price per m2 for property (needs a positive area), the price itself for anything else."""
    price = parsed["amount"].where(parsed["amount"] > 0)
    area = parsed["area"].where(parsed["area"] > 0)
    return pd.Series(np.where(is_property, price / area, price), index=parsed.index, dtype="float64")


def _utc(now: pd.Timestamp | None) -> pd.Timestamp:
    stamp = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _parse_price(value) -> tuple[float, str | None, bool]:
    """(amount or NaN, currency found in the text, malformed?) from whatever a source put in `price`."""
    if not _is_present(value):
        return math.nan, None, False
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str, dict)):
        return math.nan, None, True
    if isinstance(value, (numbers.Real, str)):
        try:
            amount = float(value)
            return (amount, None, False) if math.isfinite(amount) else (math.nan, None, True)
        except ValueError:
            pass
    amount, currency = parse_price(value)
    if amount is None:
        return math.nan, None, True
    sign = -1.0 if isinstance(value, str) and _NEGATIVE_TEXT.match(value) else 1.0
    return sign * amount, currency, False


def _numbers(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numeric values, malformed mask): bools, lists and words are malformed, "3" and "3,5" are numbers."""
    def number(value) -> float:
        if isinstance(value, bool) or not _is_present(value) or not isinstance(value, (numbers.Real, str)):
            return math.nan
        try:
            return float(value.strip().replace(",", ".") if isinstance(value, str) else value)
        except ValueError:
            return math.nan

    parsed = column.map(number).astype("float64")
    return parsed, column.map(_is_present) & parsed.isna()


def _dates(column: pd.Series) -> pd.Series:
    """UTC timestamps from ISO-like strings and date objects; numbers and anything else are unparseable."""
    def text(value) -> str | None:
        if isinstance(value, date):  # datetime and pd.Timestamp are dates too
            return value.isoformat()
        return value if isinstance(value, str) else None

    return pd.to_datetime(column.map(text), errors="coerce", utc=True, format="mixed")


def _as_mapping(value) -> dict | None:
    """The fields dict; a JSON string is decoded. None (not a dict) is returned for anything malformed."""
    if not _is_present(value) and not isinstance(value, (str, list, tuple, dict, set)):
        return {}  # no fields at all (None, NaN) is an empty listing, not a malformed one
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None


def _first_present(mapping: dict | None, keys: tuple[str, ...]):
    if not mapping:
        return None
    attributes = mapping.get("attributes") if isinstance(mapping.get("attributes"), dict) else {}
    for source in (mapping, attributes):
        for key in keys:
            if _is_present(source.get(key)):
                return source[key]
    return None


def _is_present(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return not math.isnan(value)
    if isinstance(value, (str, list, tuple, dict, set)):
        return len(value.strip() if isinstance(value, str) else value) > 0
    return True


def _column(items: pd.DataFrame, name: str) -> list:
    return items[name].tolist() if name in items.columns else [None] * len(items)
