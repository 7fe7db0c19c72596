"""Listing checks: missing fields, field errors, price per unit and robust outliers on crafted listings."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from core.refine.signals.listing_checks import listing_signals, robust_log_z
from core.sources.standardize import normalize_currency, parse_price

NOW = pd.Timestamp("2025-06-01T12:00:00Z")
COLUMNS = ["listing_missing_fields", "listing_field_errors", "price_per_unit", "price_outlier_score",
           "price_outlier"]


def listing(fields, *, title="Road bike", source_app="marketplace", data_type="listing", item_id=None):
    return {"id": item_id or title, "data_type": data_type, "source_app": source_app, "title": title,
            "text": "", "url": None, "fields": fields}


def flat(**fields) -> dict:
    """A property listing priced 300,000 EUR, plus the given fields."""
    return listing({"price": 300000, "currency": "EUR", **fields}, source_app="property")


def bikes(count: int, start: float = 100.0) -> list[dict]:
    return [listing({"price": start + i, "currency": "EUR", "category": "bikes"}, title=f"Bike {i}")
            for i in range(count)]


def signals_for(rows: list[dict]) -> pd.DataFrame:
    return listing_signals(pd.DataFrame(rows), now=NOW)


def one(fields, **kwargs) -> dict:
    return signals_for([listing(fields, **kwargs)]).iloc[0].to_dict()


def test_complete_listing_has_no_findings():
    result = one({"price": 250.0, "currency": "EUR", "category": "bikes", "posted_date": "2025-05-30"})
    assert result["listing_missing_fields"] == 0
    assert result["listing_field_errors"] == ""
    assert result["price_per_unit"] == 250.0


def test_columns_types_and_index():
    frame = pd.DataFrame(bikes(3), index=["x", "y", "z"])
    result = listing_signals(frame, now=NOW)
    assert list(result.columns) == COLUMNS
    assert list(result.index) == ["x", "y", "z"]
    assert dict(result.dtypes.astype(str)) == {
        "listing_missing_fields": "int64", "listing_field_errors": "str", "price_per_unit": "float64",
        "price_outlier_score": "float64", "price_outlier": "bool"}


def test_missing_required_fields_are_counted():
    assert one({}, title=None)["listing_missing_fields"] == 3
    assert one({"price": 10.0})["listing_missing_fields"] == 1  # currency
    assert one({"price": 10.0, "currency": "EUR"}, title="  ")["listing_missing_fields"] == 1  # blank title
    title_in_fields = one({"price": 10.0, "currency": "EUR", "title": "From fields"}, title=None)
    assert title_in_fields["listing_missing_fields"] == 0


def test_property_also_needs_location_and_a_size():
    assert signals_for([flat()])["listing_missing_fields"].tolist() == [2]
    assert signals_for([flat(location="Lyon", beds=3)])["listing_missing_fields"].tolist() == [0]
    by_category = one({"price": 300000, "currency": "EUR", "category": "Apartment"})
    assert by_category["listing_missing_fields"] == 2


@pytest.mark.parametrize(("fields", "errors"), [
    ({"price": -5, "currency": "USD"}, "price_not_positive"),
    ({"price": 0, "currency": "USD"}, "price_not_positive"),
    ({"price": "-12.50", "currency": "USD"}, "price_not_positive"),
    ({"price": "abc", "currency": "USD"}, "price_not_number"),
    ({"price": [1, 2], "currency": "USD"}, "price_not_number"),
    ({"price": True, "currency": "USD"}, "price_not_number"),
    ({"price": {"no": "amount"}, "currency": "USD"}, "price_not_number"),
    ({"price": "inf", "currency": "USD"}, "price_not_number"),
    ({"price": 10.0, "currency": "XYZ"}, "currency_unknown"),
    ({"price": 10.0, "currency": 978}, "currency_unknown"),
    ({"price": 10.0, "currency": "EUR", "beds": 51}, "beds_out_of_range"),
    ({"price": 10.0, "currency": "EUR", "beds": "many"}, "beds_not_number"),
    ({"price": 10.0, "currency": "EUR", "area_m2": 0}, "area_not_positive"),
    ({"price": 10.0, "currency": "EUR", "area_m2": -40}, "area_not_positive"),
    ({"price": 10.0, "currency": "EUR", "area_m2": ["x"]}, "area_not_number"),
    ({"price": 10.0, "currency": "EUR", "posted_date": "sometime soon"}, "posted_date_unparseable"),
    ({"price": 10.0, "currency": "EUR", "posted_date": 20250101}, "posted_date_unparseable"),
    ({"price": 10.0, "currency": "EUR", "posted_date": "2030-01-01"}, "posted_date_in_future"),
    ({"price": "abc", "currency": "ABC", "beds": 99, "posted_date": "2030-01-01"},
     "price_not_number;currency_unknown;beds_out_of_range;posted_date_in_future"),
])
def test_field_errors_are_named_and_joined(fields, errors):
    assert one(fields)["listing_field_errors"] == errors


def test_formatted_values_that_parse_are_not_errors():
    result = one({"price": "12,5 EUR", "beds": "3", "area_m2": "55,5", "posted_date": "2025-06-02T08:00:00Z"})
    assert result["listing_field_errors"] == ""  # tomorrow morning is within the time-zone tolerance
    assert result["listing_missing_fields"] == 0  # the currency came with the price
    assert result["price_per_unit"] == 12.5
    assert one({"price": 10.0, "currency": "eur"})["listing_field_errors"] == ""
    assert one({"price": 10.0, "currency": "€"})["listing_field_errors"] == ""


@pytest.mark.parametrize("fields", [None, math.nan, "not json", '["a", "list"]', 42, ["price", 10]])
def test_malformed_fields_never_raise(fields):
    result = one(fields)
    expected_error = "" if fields is None or fields is math.nan else "fields_not_a_mapping"
    assert result["listing_field_errors"] == expected_error
    assert result["listing_missing_fields"] == 2  # price and currency; the title is on the item
    assert math.isnan(result["price_per_unit"])


def test_numpy_scalars_and_date_objects_are_valid_values():
    result = one({"price": np.int64(250), "currency": "EUR", "beds": np.float32(2), "area_m2": np.int32(50),
                  "posted_date": pd.Timestamp("2025-01-01")}, source_app="property")
    assert result["listing_field_errors"] == ""
    assert result["price_per_unit"] == 5.0
    assert one({"price": 1.0, "currency": "EUR", "posted_date": datetime.date(2031, 1, 1)})[
        "listing_field_errors"] == "posted_date_in_future"
    assert one({"price": np.float64("nan"), "currency": "EUR"})["listing_missing_fields"] == 1


def test_fields_as_a_json_string_are_read():
    result = one('{"price": 99.0, "currency": "GBP"}')
    assert (result["listing_missing_fields"], result["listing_field_errors"], result["price_per_unit"]) == \
        (0, "", 99.0)


def test_price_per_unit_is_per_square_metre_for_property():
    rows = [flat(location="Nice", area_m2=60), flat(location="Nice", beds=2),
            flat(location="Nice", attributes={"area_m2": 75}), listing({"price": 80.0, "currency": "EUR"})]
    per_unit = signals_for(rows)["price_per_unit"].tolist()
    assert per_unit[0] == 5000.0 and math.isnan(per_unit[1]) and per_unit[2] == 4000.0 and per_unit[3] == 80.0


def test_outlier_within_its_group():
    gold = listing({"price": 25000.0, "currency": "EUR", "category": "bikes"}, title="Gold bike")
    ordinary = listing({"price": 109.0, "currency": "EUR", "category": "bikes"}, title="Ordinary")
    rows = bikes(20) + [gold, ordinary]
    result = signals_for(rows)
    assert result["price_outlier"].tolist() == [False] * 20 + [True, False]
    assert result["price_outlier_score"].iloc[20] > 3.5
    assert abs(result["price_outlier_score"].iloc[21]) < 1


def test_groups_are_compared_separately():
    cars = [listing({"price": 15000.0 + 500 * i, "currency": "EUR", "category": "cars"}, title=f"Car {i}")
            for i in range(10)]
    result = signals_for(bikes(10) + cars)
    assert not result["price_outlier"].any()  # a car costs more than a bike without being an outlier


def test_small_groups_fall_back_to_the_source_app_and_never_mix_units():
    rare = listing({"price": 5.0, "currency": "EUR", "category": "bells"}, title="Bell")
    result = signals_for(bikes(12) + [rare, flat(location="Paris", area_m2=40)])
    assert result["price_outlier"].iloc[12]  # judged against all marketplace items of its app
    assert math.isnan(result["price_outlier_score"].iloc[13])  # one price per m2: nothing to compare with


def test_identical_prices_do_not_divide_by_zero():
    def toy(price: float, title: str) -> dict:
        return listing({"price": price, "currency": "EUR", "category": "toys"}, title=title)

    result = signals_for([toy(50.0, f"Toy {i}") for i in range(12)] + [toy(500.0, "Odd")])
    assert result["price_outlier_score"].iloc[:12].tolist() == [0.0] * 12
    assert result["price_outlier"].iloc[12]


def test_rows_that_are_not_listings_get_neutral_values():
    rows = [listing(None, data_type="text", title="News"), listing({"price": -1}, data_type="image"),
            listing({"price": 10.0, "currency": "EUR"}, data_type=None)]
    result = signals_for(rows)
    assert result["listing_missing_fields"].tolist() == [0, 0, 0]
    assert result["listing_field_errors"].tolist() == ["", "", ""]
    assert result["price_per_unit"].isna().all() and not result["price_outlier"].any()


def test_empty_batch_and_missing_columns():
    assert listing_signals(pd.DataFrame(columns=["id", "data_type", "fields"]), now=NOW).empty
    minimal = listing_signals(pd.DataFrame({"data_type": ["listing"], "fields": [{"price": 3.0}]}), now=NOW)
    assert minimal["listing_missing_fields"].tolist() == [2]  # no title column, no currency


def test_robust_z_matches_the_textbook_formula():
    values = pd.Series([10.0, 12.0, 11.0, 13.0, 9.0, 10.5, 11.5, 12.5, 100.0])
    z = robust_log_z(values, pd.Series(["app"] * 9), pd.Series(["c"] * 9))
    logged = np.log(values)
    median = np.median(logged)
    mad = np.median(np.abs(logged - median))
    np.testing.assert_allclose(z, 0.6745 * (logged - median) / mad)
    missing = robust_log_z(pd.Series([-1.0, np.nan, 0.0]), pd.Series(["a"] * 3), pd.Series([""] * 3))
    assert np.isnan(missing).all()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.299,00 €", (1299.0, "EUR")),
        ("kr 100", (100.0, "SEK")),
        ("12 zł", (12.0, "PLN")),
        ({"amount": "12", "currency": "eur"}, (12.0, "EUR")),
        (0, (0.0, None)),  # kept at ingest, so the listing checks can report a placeholder price
        ("-5", (-5.0, None)),
        (float("inf"), (None, None)),
        ("call for price", (None, None)),
    ],
)
def test_ingest_price_parsing_keeps_placeholders_and_normalises_currency(value, expected):
    assert parse_price(value) == expected


def test_unknown_three_letter_currency_is_kept_for_the_checks_to_flag():
    assert normalize_currency("xyz") == "XYZ"
    assert normalize_currency("€") == "EUR"
    assert normalize_currency("euros") is None
