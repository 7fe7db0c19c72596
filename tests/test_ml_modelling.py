"""ml.data, ml.modelling and ml.evaluate on small synthetic tables (fast), plus dataset loading through the stores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml.data import fingerprint, flatten_fields, load_training_data
from ml.errors import TrainingDataError
from ml.modelling import fit_model, predict, predict_proba, profile_columns

FAST = {"time_budget_s": 60.0}


def regression_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 200, n)
    rooms = rng.integers(1, 6, n)
    city = rng.choice(["north", "south", "east"], n)
    price = 1000 * area * np.where(city == "north", 1.5, 1.0) + 5000 * rooms + rng.normal(0, 5000, n)
    return pd.DataFrame({"listing_id": np.arange(n), "area": area, "rooms": rooms, "city": city,
                         "price": price.round(2)})


def classification_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "blue"], n)
    label = np.where(x + (colour == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x": x, "colour": colour, "label": label})


# -- loading files -----------------------------------------------------------------------------------
def test_csv_with_bom_semicolons_and_latin1_loads(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfOrder,Lot Area,SalePrice\n1,8450,208500\n2,9600,181500\n")
    data = load_training_data(str(path))
    assert list(data.frame.columns) == ["Order", "Lot Area", "SalePrice"]
    assert data.lineage["kind"] == "file" and data.lineage["rows"] == 2
    assert data.lineage["columns"] == ["Order", "Lot Area", "SalePrice"]
    assert len(data.lineage["fingerprint"]) == 64
    assert load_training_data(str(path)).lineage["fingerprint"] == data.lineage["fingerprint"]

    latin = tmp_path / "latin.csv"
    latin.write_bytes("ville;prix;note\nMontréal;12,5;très bien\nQuébec;10;élevé\nGenève;9;fiabilité\n"
                      .encode("latin-1"))
    frame = load_training_data(str(latin)).frame
    assert list(frame.columns) == ["ville", "prix", "note"]
    assert frame["ville"].tolist() == ["Montréal", "Québec", "Genève"]


def test_parquet_loads_and_fingerprint_follows_content(tmp_path):
    frame = regression_frame(30)
    frame.to_parquet(tmp_path / "t.parquet")
    data = load_training_data(str(tmp_path / "t.parquet"))
    assert data.frame.shape == frame.shape
    assert data.lineage["fingerprint"] == fingerprint(frame)
    changed = frame.copy()
    changed.loc[0, "area"] += 1
    assert fingerprint(changed) != fingerprint(frame)


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x00\x01\x02PK\x03\x04 binary junk" * 20, "binary"),
    (b"a,b\n1,2\n3,4,5,6\n", "well-formed"),
    (b"just one column\nvalue\n", "column"),
    (b"a,b\n", "no data rows"),
])
def test_broken_files_are_clear_errors(tmp_path, content, expected):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(TrainingDataError, match=expected):
        load_training_data(str(path))


def test_missing_file_and_damaged_parquet(tmp_path):
    with pytest.raises(TrainingDataError, match="No file"):
        load_training_data(str(tmp_path / "nope.csv"))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(TrainingDataError, match="Parquet"):
        load_training_data(str(tmp_path / "bad.parquet"))


def test_flatten_fields_makes_listing_fields_columns():
    items = pd.DataFrame({"id": ["1", "2"], "text": ["a flat", "a house"],
                          "fields": [json.dumps({"price": 100, "rooms": 2, "text": "x"}), json.dumps({"price": 250})]})
    flat = flatten_fields(items)
    assert list(flat.columns) == ["id", "text", "price", "rooms", "fields.text"]
    assert flat["price"].tolist() == [100, 250]


# -- fitted once, shared (each fit is a few seconds of cross-validation) ---------------------------------
@pytest.fixture(scope="module")
def regression_model():
    frame = regression_frame().assign(empty=np.nan, same="x")
    return frame, fit_model(frame, "price", seed=3, **FAST)


@pytest.fixture(scope="module")
def classification_model():
    frame = classification_frame()
    seen = []
    model = fit_model(frame, "label", progress=lambda f, m: seen.append((f, m)), **FAST)
    return frame, model, seen


# -- validation -----------------------------------------------------------------------------------------
def test_missing_target_all_missing_target_and_one_class():
    frame = classification_frame()
    with pytest.raises(TrainingDataError, match="no column 'lable'.*'label'"):
        fit_model(frame, "lable", **FAST)
    with pytest.raises(TrainingDataError, match="has no values"):
        fit_model(frame.assign(label=np.nan), "label", **FAST)
    with pytest.raises(TrainingDataError, match="only one class"):
        fit_model(frame.assign(label="yes"), "label", **FAST)
    with pytest.raises(TrainingDataError, match="at least"):
        fit_model(frame.head(8), "label", **FAST)
    with pytest.raises(TrainingDataError, match="numeric target"):
        fit_model(frame, "label", task="regression", **FAST)


def test_all_missing_and_constant_columns_are_dropped_with_a_note(regression_model):
    _, model = regression_model
    assert "empty" not in model.feature_columns and "same" not in model.feature_columns
    assert "listing_id" not in model.feature_columns  # unique per row: an identifier
    assert any("'empty'" in note and "missing" in note for note in model.notes)
    assert model.column_roles["listing_id"].startswith("dropped")


def test_text_column_of_empty_strings_is_handled():
    frame = classification_frame(60).assign(comment="")
    model = fit_model(frame, "label", text_columns=["comment"], time_budget_s=0.0)
    assert model.text_columns == [] and "comment" not in model.feature_columns
    assert any("comment" in note for note in model.notes)
    with pytest.raises(TrainingDataError, match="No usable feature"):
        fit_model(frame[["comment", "label"]], "label", text_columns=["comment"], **FAST)


def test_task_inference(regression_model, classification_model):
    assert regression_model[1].task == "regression"
    assert classification_model[1].task == "classification"
    numeric_classes = classification_frame(60).assign(label=lambda f: (f["label"] == "yes").astype(int))
    model = fit_model(numeric_classes, "label", time_budget_s=0.0)
    assert model.task == "classification" and model.classes == [0, 1]
    assert set(predict(model, numeric_classes)) <= {0, 1}


def test_text_columns_are_inferred_and_used():
    rng = np.random.default_rng(1)
    words = {"sport": "match goal team player league score coach season", "tech": "software chip phone data "
             "network computer internet device"}
    labels = rng.choice(["sport", "tech"], 80)
    texts = [" ".join(rng.choice(words[label].split(), 12)) + f" note {i}" for i, label in enumerate(labels)]
    model = fit_model(pd.DataFrame({"body": texts, "topic": labels}), "topic", **FAST)
    assert model.text_columns == ["body"]
    assert model.metrics["accuracy"] >= 0.9
    assert predict_proba(model, pd.DataFrame({"body": texts[:3]})).shape == (3, 2)


# -- determinism, prediction, evaluation ---------------------------------------------------------------
def test_same_seed_same_model_and_predictions(regression_model):
    frame, first = regression_model
    second = fit_model(frame, "price", seed=3, **FAST)
    assert first.chosen == second.chosen and first.holdout_rows == second.holdout_rows
    assert np.array_equal(predict(first, frame), predict(second, frame))
    assert first.metrics == second.metrics
    assert [c["cv_score"] for c in first.candidates] == [c["cv_score"] for c in second.candidates]


def test_fitted_model_shape_metrics_and_figures(regression_model, classification_model):
    import plotly.io

    model = regression_model[1]
    assert {"rmse", "mae", "r2", "rmse_log"} <= set(model.metrics)
    assert model.metrics["r2"] > 0.8
    assert len(model.holdout_rows) == 24
    assert {c["name"] for c in model.candidates} >= {"ridge", "hist_gradient_boosting"}
    assert all({"name", "cv_score", "cv_metric", "fit_seconds"} <= set(c) for c in model.candidates)
    assert model.chosen in {c["name"] for c in model.candidates}
    assert {"predicted_vs_actual", "residuals", "importance"} <= set(model.figures)
    for figure in model.figures.values():
        plotly.io.from_json(figure)
    assert model.importance[0]["feature"] in {"area", "city"}
    assert {"feature", "importance", "std"} == set(model.importance[0])

    classes = classification_model[1]
    assert {"accuracy", "macro_f1", "confusion_matrix", "brier", "calibration"} <= set(classes.metrics)
    assert {"confusion_matrix", "calibration"} <= set(classes.figures)
    proba = predict_proba(classes, classification_frame(10, seed=5))
    assert proba.shape == (10, 2) and np.allclose(proba.sum(axis=1), 1)


def test_predict_keeps_input_order_and_tolerates_missing_and_extra_columns(regression_model):
    model = regression_model[1]
    new = regression_frame(20, seed=9).drop(columns=["price"])
    expected = predict(model, new)
    shuffled = new.iloc[::-1].set_index(pd.Index(range(100, 120)))
    assert np.allclose(predict(model, shuffled), expected[::-1])
    assert len(predict(model, new.drop(columns=["city"]).assign(unrelated="z"))) == 20
    assert np.all(np.isfinite(predict(model, new.drop(columns=["city", "rooms"]))))
    assert predict(model, new.head(0)).shape == (0,)


def test_profile_roles():
    frame = pd.DataFrame({"code": [20, 30, 60, 20, 30, 60] * 5, "when": [f"2024-01-0{i % 9 + 1}" for i in range(30)],
                          "n": [f"{i}.5" for i in range(30)], "cat": ["a", "b"] * 15})
    plan = profile_columns(frame)
    assert plan.codes == ["code"] and "n" in plan.numeric and plan.datetime == ["when"]
    assert plan.categorical == ["cat"]


def test_time_budget_skips_remaining_candidates():
    model = fit_model(regression_frame(60), "price", time_budget_s=0.0)
    assert {c["name"] for c in model.candidates} == {"ridge", "ridge_trimmed"}
    assert any("time budget" in note for note in model.notes)


def test_progress_is_reported(classification_model):
    seen = classification_model[2]
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)


# -- validated items through the real stores ---------------------------------------------------------
def test_dataset_loads_kept_items_and_refuses_other_suppliers(workbench):
    from principals import as_supplier, new_user
    from refine_fixtures import dataset_with_run

    from core.auth import PermissionDenied

    dataset, run_id = dataset_with_run(n=12)
    data = load_training_data(f"dataset:{dataset['name']}", principal=as_supplier())
    assert len(data.frame) == 9  # quality >= 0.5 keeps 9 of 12
    assert {"text", "quality", "language"} <= set(data.frame.columns) and "fields" not in data.frame.columns
    assert data.lineage["kind"] == "dataset" and data.lineage["run_id"] == run_id
    assert data.lineage["dataset"] == dataset["name"] and data.lineage["rows"] == 9
    assert data.lineage["fingerprint"] == load_training_data(f"dataset:{dataset['name']}",
                                                             principal=as_supplier()).lineage["fingerprint"]
    with pytest.raises(PermissionDenied):
        load_training_data(f"dataset:{dataset['name']}", principal=new_user("supplier"))
    with pytest.raises(PermissionDenied):
        load_training_data("dataset:no-such-dataset", principal=as_supplier())


def test_package_version_loads_its_data_file(workbench):
    import uuid

    from principals import as_supplier, new_user
    from refine_fixtures import dataset_with_run

    from core.auth import PermissionDenied
    from core.packaging.build import PackageRequest, build_package

    dataset, run_id = dataset_with_run(n=12)
    built = build_package(as_supplier(), PackageRequest(dataset=dataset["name"], title=f"ML {uuid.uuid4().hex[:8]}",
                                                        license="CC-BY-4.0"))
    data = load_training_data(f"package:{built['name']}@{built['version']}", principal=as_supplier())
    assert len(data.frame) == 9 and "text" in data.frame.columns
    assert data.lineage["kind"] == "package" and data.lineage["package"] == built["name"]
    assert data.lineage["version"] == built["version"] and data.lineage["run_id"] == run_id
    assert load_training_data(f"package:{built['name']}", principal=as_supplier()).lineage["version"] == "1.0.0"
    with pytest.raises(PermissionDenied):
        load_training_data(f"package:{built['name']}@{built['version']}", principal=new_user("supplier"))
    with pytest.raises(PermissionDenied):
        load_training_data(f"package:{built['name']}@9.9.9", principal=as_supplier())


def test_a_class_too_small_to_calibrate_still_gives_probabilities():
    rng = np.random.default_rng(2)
    vocab = {"a": "alpha apple anchor arrow", "b": "bravo banana bottle bridge", "c": "charlie cherry candle cloud"}
    labels = ["a"] * 30 + ["b"] * 30 + ["c"] * 2
    texts = [" ".join(rng.choice(vocab[label].split(), 10)) + f" row {i}" for i, label in enumerate(labels)]
    model = fit_model(pd.DataFrame({"body": texts, "label": labels}), "label", **FAST)
    proba = predict_proba(model, pd.DataFrame({"body": texts}))
    assert proba.shape == (62, 3) and np.allclose(proba.sum(axis=1), 1)


def test_custom_estimators_declare_their_kind_for_voting_ensembles():
    from sklearn.base import is_classifier, is_regressor

    from ml.modelling import CalibratedMarginClassifier, MarginBlendClassifier, TrimmedRidgeCV

    assert is_regressor(TrimmedRidgeCV())
    assert is_classifier(CalibratedMarginClassifier()) and is_classifier(MarginBlendClassifier())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, 0.0] + rng.normal(0, 0.1, 200)
    y[:3] += 50  # gross outliers are trimmed before the refit
    model = TrimmedRidgeCV().fit(X, y)
    assert model.trimmed_ == 3 and abs(model.model_.coef_[1] - 2.0) < 0.05


def test_few_rows_of_many_classes_train_without_crashing():
    """54 rows, 6 classes: gradient boosting's early-stopping split used to be smaller than the class count."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lang": np.repeat(list("abcdef"), 9), "x": rng.normal(size=54),
                          "cat": rng.choice(["p", "q"], 54)})
    frame["x"] += pd.factorize(frame["lang"])[0]
    model = fit_model(frame, "lang", time_budget_s=5)
    assert model.task == "classification" and len(predict(model, frame)) == 54
