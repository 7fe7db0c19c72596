"""ml.drift: known answers per detector, clean comparisons of undrifted data, awkward columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from ml.drift import compare_frames
from ml.drift.stats import benjamini_hochberg, exceedance_p_value, proportion_p_value


def _table(n: int, seed: int) -> pd.DataFrame:
    """Ames-like columns: skewed areas, years, small-integer codes, mostly-zero, categories, gaps, free text."""
    rng = np.random.default_rng(seed)
    words = ["house", "garden", "quiet", "street", "near", "school", "bright", "kitchen", "large", "room"]
    return pd.DataFrame({
        "area": np.round(rng.lognormal(7.3, 0.3, n)),
        "year": rng.integers(1900, 2010, n),
        "quality": rng.integers(1, 11, n),
        "pool": np.where(rng.random(n) < 0.02, np.round(rng.uniform(200, 700, n)), 0),
        "porch": np.where(rng.random(n) < 0.55, 0, np.round(rng.gamma(2, 40, n))),
        "price": np.round(rng.lognormal(12, 0.4, n), -2),
        "zone": rng.choice(["RL", "RM", "FV", "RH", "C"], n, p=[0.7, 0.15, 0.08, 0.05, 0.02]),
        "hood": rng.choice([f"N{i:02d}" for i in range(25)], n),
        "frontage": np.where(rng.random(n) < 0.17, np.nan, np.round(rng.normal(70, 20, n))),
        "empty": np.full(n, np.nan),
        "constant": np.full(n, 7),
        "note": [" ".join(rng.choice(words, rng.integers(5, 15))) for _ in range(n)],
    })


def _split(frame: pd.DataFrame, current_rows: int, seed: int = 0):
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) - current_rows
    return (frame.iloc[order[:half]].reset_index(drop=True),
            frame.iloc[order[half:half + current_rows]].reset_index(drop=True))


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return _table(2000, seed=1)


def _drifted(reference, current, **kwargs) -> list[str]:
    return compare_frames(reference, current, **kwargs)["drifted"]


# -- nothing to find ----------------------------------------------------------------------------------------------
def test_identical_data_has_no_drift_and_no_warnings(base):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = compare_frames(base, base.copy())
    assert report["drifted"] == [] and report["summary"] == []
    assert not caught
    assert set(report["columns"]) == set(base.columns)
    for entry in report["columns"].values():
        assert {"drifted", "method", "statistic", "effect"} <= set(entry)


@pytest.mark.parametrize(("current_rows", "seed"), [(1000, 0), (1000, 1), (150, 2), (150, 3)])
def test_random_split_is_clean(base, current_rows, seed):
    reference, current = _split(base, current_rows, seed)
    assert _drifted(reference, current) == []


def test_effect_floor_keeps_tiny_shifts_on_huge_samples_quiet():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(100, 10, 200_000)})
    current = pd.DataFrame({"x": rng.normal(100.4, 10, 200_000)})  # 0.04 sd: significant, not relevant
    report = compare_frames(reference, current)
    location = next(t for t in report["columns"]["x"]["tests"] if t["method"] == "mann_whitney")
    assert location["p_value"] < 1e-6
    assert report["drifted"] == []


# -- numeric detectors ---------------------------------------------------------------------------------------------
def test_mean_shift_reads_as_a_median_change(base):
    reference, current = _split(base, 1000)
    current["area"] = (current["area"] * 1.15).round()
    report = compare_frames(reference, current)
    assert report["drifted"] == ["area"]
    assert report["columns"]["area"]["method"] == "mann_whitney"
    assert report["columns"]["area"]["summary"].startswith("median +1")
    assert report["summary"][0].startswith("area: median +")


def test_unit_change_is_named(base):
    reference, current = _split(base, 1000)
    current["area"] = (current["area"] * 0.0929).round(2)
    entry = compare_frames(reference, current)["columns"]["area"]
    assert entry["drifted"] and "unit change" in entry["summary"]


def test_spread_change(base):
    reference, current = _split(base, 1000)
    median = current["frontage"].median()
    current["frontage"] = (median + (current["frontage"] - median) * 1.6).round()
    report = compare_frames(reference, current)
    assert report["drifted"] == ["frontage"]
    assert "spread ×1.5" in report["columns"]["frontage"]["summary"]


def test_three_percent_outliers(base):
    reference, current = _split(base, 1000)
    rows = current.sample(frac=0.03, random_state=3).index
    current.loc[rows, "area"] = current.loc[rows, "area"] * 8
    entry = compare_frames(reference, current)["columns"]["area"]
    assert entry["drifted"] and entry["method"] in ("beyond_range", "outlier_share")


def test_coarse_rounding(base):
    reference, current = _split(base, 1000)
    current["area"] = current["area"].round(-2)
    entry = compare_frames(reference, current)["columns"]["area"]
    assert entry["drifted"] and entry["method"] == "value_grid"
    assert "multiples of 100" in entry["summary"]


def test_decimals_appearing_in_whole_numbers(base):
    reference, current = _split(base, 1000)
    current["quality"] = current["quality"] * 1.05  # too small a shift to see, but no longer whole numbers
    entry = compare_frames(reference, current)["columns"]["quality"]
    assert entry["drifted"]
    assert any(t["method"] == "value_grid" and "whole numbers" in t["summary"] for t in entry["tests"])


def test_mostly_zero_column_turning_nonzero(base):
    reference, current = _split(base, 1000)
    rows = current.sample(frac=0.10, random_state=4).index
    current.loc[rows, "pool"] = 400
    assert "pool" in _drifted(reference, current)


def test_shift_of_the_non_zero_part_of_a_zero_inflated_column(base):
    reference, current = _split(base, 1000)
    current["porch"] = (current["porch"] * 1.3).round()  # 55% zeros stay zero; the porches grow
    entry = compare_frames(reference, current)["columns"]["porch"]
    assert entry["drifted"]
    assert any(t["method"] == "nonzero_shift" and t["summary"].startswith("non-zero values: median +")
               for t in entry["tests"])


# -- missing values, types, schema ----------------------------------------------------------------------------------
def test_small_missing_jump(base):
    reference, current = _split(base, 1000)
    current.loc[current.sample(n=50, random_state=5).index, "area"] = np.nan
    report = compare_frames(reference, current)
    assert report["drifted"] == ["area"]
    assert report["columns"]["area"]["summary"] == "missing 0% → 5%"


def test_all_missing_and_constant_columns(base):
    reference, current = _split(base, 150)
    report = compare_frames(reference, current)
    assert not report["columns"]["empty"]["drifted"] and not report["columns"]["constant"]["drifted"]
    current["constant"] = 8
    current["zone"] = np.nan
    report = compare_frames(reference, current)
    assert set(report["drifted"]) == {"constant", "zone"}
    assert report["columns"]["zone"]["summary"] == "missing 0% → 100%"


def test_numbers_turned_into_text_with_units(base):
    reference, current = _split(base, 1000)
    current["area"] = current["area"].map(lambda v: f"{v:.0f} sq ft")
    entry = compare_frames(reference, current)["columns"]["area"]
    assert entry["drifted"] and entry["method"] == "value_type"
    assert "sq ft" in entry["summary"] and "100% → 0% numeric" in entry["summary"]


def test_swapped_columns_both_drift(base):
    reference, current = _split(base, 1000)
    current[["area", "price"]] = current[["price", "area"]].to_numpy()
    current[["zone", "hood"]] = current[["hood", "zone"]].to_numpy()
    assert set(_drifted(reference, current)) == {"area", "price", "zone", "hood"}


def test_column_in_one_table_only_is_reported(base):
    reference, current = _split(base, 500)
    report = compare_frames(reference.drop(columns=["price"]), current.assign(extra=1))
    assert report["columns"]["price"]["method"] == "schema" and report["columns"]["price"]["drifted"]
    assert report["columns"]["extra"]["summary"].startswith("new column")
    assert report["schema"] == {"only_in_reference": [], "only_in_current": ["price", "extra"]}


def test_odd_columns_never_crash():
    rng = np.random.default_rng(11)
    n = 300

    def frame(shift: int) -> pd.DataFrame:
        return pd.DataFrame({
            "nested": [{"a": int(i % 3)} for i in range(n)],
            "lists": [[1, 2][: i % 3] for i in range(n)],
            "flag": rng.random(n) < 0.3,
            "when": pd.date_range("2024-01-01", periods=n, freq="h") + pd.Timedelta(days=shift),
            "iso": [f"2024-02-{1 + i % 28:02d}" for i in range(n)],
            "mixed": [i if i % 2 else f"x{i}" for i in range(n)],
            "infinite": np.where(rng.random(n) < 0.05, np.inf, rng.normal(size=n)),
            "grouped": [f"{1000 + i:,}" for i in range(n)],
        })

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = compare_frames(frame(0), frame(30))
    assert not caught
    assert {entry["method"] for entry in report["columns"].values()}.isdisjoint({"error"})
    assert report["columns"]["grouped"]["kind"] == "numeric"
    assert report["columns"]["iso"]["kind"] == "numeric"
    assert "when" in report["drifted"]  # a month later: every timestamp is new


# -- categories and text ---------------------------------------------------------------------------------------------
def test_new_category(base):
    reference, current = _split(base, 1000)
    current.loc[current.sample(n=50, random_state=6).index, "zone"] = "Z9"
    entry = compare_frames(reference, current)["columns"]["zone"]
    assert entry["drifted"]
    assert any(t["method"] == "new_values" and "'Z9'" in t["summary"] for t in entry["tests"])


def test_category_mix_change_is_readable(base):
    reference, current = _split(base, 1000)
    moved = current.sample(frac=0.2, random_state=7).index
    current.loc[moved, "hood"] = np.random.default_rng(7).choice(["N01", "N02", "N03"], len(moved))
    report = compare_frames(reference, current)
    assert report["drifted"] == ["hood"]
    assert report["columns"]["hood"]["summary"].startswith("3 values now ")
    assert "N01" in report["columns"]["hood"]["summary"]


def test_rare_values_on_one_side_of_a_random_split_are_not_new_categories():
    rng = np.random.default_rng(8)
    levels = [f"L{i}" for i in range(60)]
    weights = np.array([50.0] * 10 + [1.0] * 50)
    frame = pd.DataFrame({"c": rng.choice(levels, 2000, p=weights / weights.sum())})
    for seed in range(5):
        reference, current = _split(frame, 1000, seed)
        assert _drifted(reference, current) == []


def test_text_length_and_language():
    rng = np.random.default_rng(9)
    english = ["the house has a large garden and a quiet street", "a bright kitchen near the school",
               "the rooms are large and the street is quiet", "close to shops and the park"]
    german = ["das haus hat einen großen garten und eine ruhige straße", "eine helle küche nahe der schule",
              "die zimmer sind groß und die straße ist ruhig", "nahe an geschäften und dem park"]
    reference = pd.DataFrame({"text": [english[i % 4] + f" number {i}" for i in range(400)]})
    current = pd.DataFrame({"text": [(german if rng.random() < 0.5 else english)[i % 4] + f" number {i}"
                                     for i in range(400)]})
    entry = compare_frames(reference, current)["columns"]["text"]
    assert entry["kind"] == "text" and entry["drifted"]
    assert {t["method"] for t in entry["tests"]} >= {"text_length", "vocabulary", "language_mix"}
    assert compare_frames(reference, reference.sample(frac=1.0, random_state=1))["drifted"] == []


def test_columns_argument_and_bad_input(base):
    report = compare_frames(base, base, columns=["area"])
    assert list(report["columns"]) == ["area"]
    with pytest.raises(ValueError, match="no column named"):
        compare_frames(base, base, columns=["nope"])
    with pytest.raises(TypeError):
        compare_frames(base, [1, 2, 3])


# -- statistics -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cells", [(3, 40, 9, 35), (0, 1000, 12, 1000), (170, 1000, 220, 1000), (5, 5, 0, 3)])
def test_proportion_test_matches_fisher(cells):
    a, n1, b, n2 = cells
    expected = fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue
    assert proportion_p_value(a, n1, b, n2) == pytest.approx(expected, rel=1e-6)


def test_exceedance_probability():
    assert exceedance_p_value(1000, 1000, 1) == pytest.approx(0.5, rel=1e-3)  # one value above the max: a coin
    assert exceedance_p_value(1000, 1000, 3) == pytest.approx(1000 * 999 * 998 / (2000 * 1999 * 1998))
    assert exceedance_p_value(100, 10, 0) == 1.0 and exceedance_p_value(100, 10, 11) == 0.0


def test_benjamini_hochberg():
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
