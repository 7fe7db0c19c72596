"""A learned quality model per dataset: P(good) from the item text and its quality signals.

Labels, best first:
- feedback: the Raw Explorer's good/bad labels (core.store.models.Feedback) on the dataset's raw records,
  matched to items by (app, raw id); several people labelling one record vote, a tie goes to the latest.
- weak labels, used only when feedback has fewer than MIN_LABELS_PER_CLASS of either class: the latest
  refinement run's decisions. Kept = good; dropped by a quality rule (a min/max threshold, the minimum
  length, a content type, low language confidence) = bad. Drops that say nothing about an item's own
  quality are left out: duplicates (the best copy of the same text was kept), PII, disallowed languages,
  failed signals, and learned_quality itself (a model must not learn from its own earlier verdicts).
  Feedback overrides the weak label of the same item and weighs FEEDBACK_WEIGHT times more.

Features: TF-IDF of the text (word 1-2 grams) and the numeric quality signals (core/refine/signals/learned.py
defines them, so training and the refine pipeline read the same columns); a balanced logistic regression,
whose probabilities are graded scores, unlike the mostly 0-or-1 rule scores.

The model is registered as `quality-<dataset>` (ml.registry, owned by the trainer) and becomes its
champion; the refine pipeline then fills the `learned_quality` signal column with the champion's P(good),
so a recipe can say `threshold: {column: learned_quality, min: 0.5}`. Promote or roll back a version in
the ML Lab to change which one scores.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import numpy as np
import pandas as pd
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.refine.signals.learned import NUMERIC_FEATURES, TEXT_FEATURE, LearnedScorer, feature_frame, mark_model
from core.store.jobs import JobContext, job_function
from core.store.models import Feedback, Item, RefinementRecord, RefinementRun
from core.store.sql import session_scope
from ml.errors import TrainingDataError

GOOD, BAD = "good", "bad"
CLASSES = [BAD, GOOD]
TARGET = "quality_label"
MIN_LABELS_PER_CLASS = 30  # below this in either class, weak labels from the latest run are added
MIN_TRAINING_PER_CLASS = 4
FEEDBACK_WEIGHT = 3.0
HOLDOUT_FRACTION = 0.2
MODEL_PREFIX = "quality-"
# Drop reasons (core.refine.rules) that judge an item's own quality; every other drop is no weak label.
_QUALITY_DROPS = ("min_", "max_", "content_type", "language_confidence<")
_SELF_DROPS = ("min_learned_quality", "max_learned_quality")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class QualityModelError(TrainingDataError):
    """The quality model cannot be trained as asked; the message says what to label or refine."""


def model_name_for(dataset_name: str) -> str:
    """`quality-<dataset>`; a dataset name that is not a valid model name gets a short hash to stay unique."""
    cleaned = _NAME_UNSAFE.sub("-", dataset_name).strip("-.")
    if cleaned == dataset_name and len(MODEL_PREFIX + cleaned) <= 100:
        return MODEL_PREFIX + cleaned
    digest = hashlib.sha256(dataset_name.encode("utf-8")).hexdigest()[:8]
    return f"{MODEL_PREFIX}{cleaned[:80]}-{digest}"


# -- labels -------------------------------------------------------------------------------------
def feedback_labels(principal: Principal | None, dataset_name: str) -> dict[int, str]:
    """item id -> good/bad from the Raw Explorer labels on the dataset's records (majority, ties to the latest)."""
    dataset = tenancy.dataset_for(principal, dataset_name, action="read quality labels")
    query = (select(Item.id, Feedback.label, Feedback.created_at)
             .join(Feedback, (Feedback.raw_id == Item.raw_id) & (Feedback.app == Item.source_app))
             .where(Item.dataset_id == dataset["id"], Feedback.label.in_([GOOD, BAD]))
             .order_by(Feedback.created_at))
    votes: dict[int, list[str]] = {}
    with session_scope() as session:
        for item_id, label, _ in session.exec(query):
            votes.setdefault(int(item_id), []).append(label)
    labels = {}
    for item_id, given in votes.items():
        counts = Counter(given)
        labels[item_id] = given[-1] if counts[GOOD] == counts[BAD] else counts.most_common(1)[0][0]
    return labels


def weak_label(kept: bool, reason: str | None) -> str | None:
    """good for a kept item, bad for one dropped by a quality rule, None for any other drop."""
    if kept:
        return GOOD
    reason = reason or ""
    if reason.startswith(_SELF_DROPS):
        return None
    return BAD if reason.startswith(_QUALITY_DROPS) else None


def weak_labels(principal: Principal | None, dataset_name: str) -> tuple[dict[int, str], int | None]:
    """item id -> good/bad from the latest finished refinement run, and that run's id (None: no run)."""
    dataset = tenancy.dataset_for(principal, dataset_name, action="read refinement decisions")
    with session_scope() as session:
        run_id = session.exec(select(RefinementRun.id).where(RefinementRun.dataset_id == dataset["id"],
                                                             RefinementRun.status == "succeeded")
                              .order_by(RefinementRun.id.desc())).first()
        if run_id is None:
            return {}, None
        rows = session.exec(select(RefinementRecord.item_id, RefinementRecord.kept, RefinementRecord.drop_reason)
                            .where(RefinementRecord.run_id == run_id)).all()
    labels = {int(item_id): label for item_id, kept, reason in rows
              if (label := weak_label(bool(kept), reason)) is not None}
    return labels, int(run_id)


def training_labels(principal: Principal | None, dataset_name: str,
                    min_per_class: int = MIN_LABELS_PER_CLASS) -> tuple[dict[int, str], dict[int, float], dict]:
    """Labels, weights and a description of where they came from (feedback, weak or both)."""
    feedback = feedback_labels(principal, dataset_name)
    counts = Counter(feedback.values())
    info = {"feedback_good": counts[GOOD], "feedback_bad": counts[BAD], "weak_good": 0, "weak_bad": 0,
            "run_id": None}
    if min(counts[GOOD], counts[BAD]) >= min_per_class:
        info["label_source"] = "feedback"
        return feedback, {item: FEEDBACK_WEIGHT for item in feedback}, info
    weak, run_id = weak_labels(principal, dataset_name)
    added = {item: label for item, label in weak.items() if item not in feedback}
    weak_counts = Counter(added.values())
    info.update(weak_good=weak_counts[GOOD], weak_bad=weak_counts[BAD], run_id=run_id)
    info["label_source"] = "feedback+weak" if feedback and added else ("weak" if added else "feedback")
    labels = {**added, **feedback}
    weights = {**{item: 1.0 for item in added}, **{item: FEEDBACK_WEIGHT for item in feedback}}
    return labels, weights, info


# -- training -----------------------------------------------------------------------------------
def _pipeline(rows: int, seed: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                        ("scale", StandardScaler())])
    text = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2 if rows >= 200 else 1,
                           max_features=50_000, strip_accents="unicode")
    features = ColumnTransformer([("text", text, TEXT_FEATURE), ("signals", numeric, list(NUMERIC_FEATURES))])
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=seed)
    return Pipeline([("features", features), ("model", model)])


def _fit(frame: pd.DataFrame, y: np.ndarray, weights: np.ndarray, seed: int):
    pipeline = _pipeline(len(frame), seed)
    pipeline.fit(frame, y, model__sample_weight=weights)
    return pipeline


def _holdout(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(y))
    smallest = min(Counter(y.tolist()).values())
    if smallest < 2 * MIN_TRAINING_PER_CLASS:
        return positions, np.array([], dtype=int)
    train, held = train_test_split(positions, test_size=max(int(round(HOLDOUT_FRACTION * len(y))), 2),
                                   random_state=seed, stratify=y)
    return np.sort(train), np.sort(held)


def _top_terms(pipeline, top: int = 15) -> list[dict]:
    """The features that push P(good) up or down most (coefficients of the linear model), for the page."""
    try:
        names = pipeline.named_steps["features"].get_feature_names_out()
        coefficients = pipeline.named_steps["model"].coef_[0]
    except (AttributeError, KeyError, IndexError):
        return []
    order = np.argsort(np.abs(coefficients))[::-1][:top]
    return [{"feature": str(names[i]).replace("text__", "word: ").replace("signals__", "signal: "),
             "importance": round(float(abs(coefficients[i])), 4), "std": 0.0,
             "direction": GOOD if coefficients[i] > 0 else BAD} for i in order]


def train_quality_model(principal: Principal | None, dataset_name: str, *, min_per_class: int = MIN_LABELS_PER_CLASS,
                        seed: int = 0, make_champion: bool = True, progress=None) -> dict:
    """Train and register a new version of `quality-<dataset>`; returns the version summary with label counts."""
    from core.refine.service import dataset_signals
    from ml import registry
    from ml.data import fingerprint
    from ml.evaluate import classification_figures, classification_metrics, importance_figure
    from ml.jobs import summary
    from ml.modelling import FittedModel

    report = progress or (lambda fraction, message=None: None)
    tenancy.require_supplier(principal, "train quality models")
    tenancy.dataset_for(principal, dataset_name, action="train a quality model")
    name = registry.check_registrable(principal, model_name_for(dataset_name))
    report(0.05, "Collecting good/bad labels")
    labels, weights, info = training_labels(principal, dataset_name, min_per_class)
    report(0.15, "Reading the items and their signals")
    items, signals = dataset_signals(principal, dataset_name, progress=lambda f, m: report(0.15 + 0.4 * f, m))
    item_ids = items["item_id"].astype(int).to_numpy()
    labelled = np.array([i in labels for i in item_ids])
    frame = feature_frame(items, signals).loc[labelled].reset_index(drop=True)
    y = np.array([labels[i] for i in item_ids[labelled]], dtype=object)
    w = np.array([weights[i] for i in item_ids[labelled]], dtype=float)
    counts = Counter(y.tolist())
    if min(counts[GOOD], counts[BAD]) < MIN_TRAINING_PER_CLASS:
        raise QualityModelError(
            f"A quality model of '{dataset_name}' needs at least {MIN_TRAINING_PER_CLASS} good and "
            f"{MIN_TRAINING_PER_CLASS} bad examples; it has {counts[GOOD]} good and {counts[BAD]} bad "
            f"({info['feedback_good'] + info['feedback_bad']} from feedback, "
            f"{info['weak_good'] + info['weak_bad']} from the latest refinement run). Label more records good or "
            "bad in the Raw Explorer, or refine the dataset with a recipe that drops its low-quality items.")
    report(0.6, f"Training on {len(y):,} labelled items ({counts[GOOD]:,} good, {counts[BAD]:,} bad)")
    train, held = _holdout(y, seed)
    notes = [f"Labels from {info['label_source']}: {info['feedback_good']} good / {info['feedback_bad']} bad from "
             f"feedback, {info['weak_good']} good / {info['weak_bad']} bad from run {info['run_id']}."]
    metrics: dict = {}
    figures: dict = {}
    if len(held):
        evaluated = _fit(frame.iloc[train], y[train], w[train], seed)
        proba = evaluated.predict_proba(frame.iloc[held])[:, list(evaluated.classes_).index(GOOD)]
        predicted = np.where(proba >= 0.5, GOOD, BAD).astype(object)
        metrics = classification_metrics(y[held], predicted, np.column_stack([1 - proba, proba]), CLASSES)
        figures = classification_figures(metrics)
        notes.append("Held-out metrics come from a model fitted without the held-out items; the served model "
                     "is refitted on every labelled item.")
    else:
        notes.append("Too few labels to hold some out: no held-out metrics.")
    report(0.8, "Fitting on every labelled item")
    pipeline = _fit(frame, y, w, seed)
    importance = _top_terms(pipeline)
    if importance:
        figures["importance"] = importance_figure(importance)
    metrics.update({"labels_good": counts[GOOD], "labels_bad": counts[BAD],
                    "labels_feedback": info["feedback_good"] + info["feedback_bad"],
                    "labels_weak": info["weak_good"] + info["weak_bad"]})
    fitted = FittedModel(pipeline=pipeline, task="classification", target=TARGET,
                         feature_columns=[TEXT_FEATURE, *NUMERIC_FEATURES], text_columns=[TEXT_FEATURE],
                         classes=list(CLASSES), chosen="tfidf+signals logistic (balanced)", candidates=[],
                         holdout_rows=[int(i) for i in held], metrics=metrics, figures=figures,
                         importance=importance, notes=notes)
    lineage = {"kind": "quality-labels", "source": f"dataset:{dataset_name}", "dataset": dataset_name,
               "run_id": info["run_id"], "label_source": info["label_source"], "rows": len(y),
               "fingerprint": fingerprint(frame.assign(**{TARGET: y}))}
    settings = {"kind": "quality", "dataset": dataset_name, "min_per_class": min_per_class, "seed": seed,
                "feedback_weight": FEEDBACK_WEIGHT}
    report(0.9, f"Registering a new version of {name}")
    version = registry.register_model(principal, name, fitted, lineage=lineage, settings=settings,
                                      description=f"P(good) of the items of {dataset_name}, for the learned_quality "
                                                  "signal",
                                      set_alias=registry.CHAMPION if make_champion else "auto")
    mark_model(dataset_name, name)
    audit.record("ml.quality_model", principal.id, f"model:{name}", dataset=dataset_name, version=version["version"],
                 label_source=info["label_source"])
    report(1.0, f"Registered {name} version {version['version']}")
    return {**summary(version, fitted), "dataset": dataset_name, "labels": info}


# -- scoring ------------------------------------------------------------------------------------
class ProbabilityGood:
    """P(good) of a fitted quality model; a plain class so the refine pipeline can send it to worker processes."""

    def __init__(self, fitted):
        self.fitted = fitted

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        from ml.modelling import predict_proba

        proba = predict_proba(self.fitted, frame)
        return proba[:, list(self.fitted.classes).index(GOOD)]


def load_scorer(principal: Principal | None, model_name: str) -> LearnedScorer:
    """The champion of a quality model as the refine pipeline's learned_quality scorer."""
    from ml import mlflow_store, registry

    number = registry.resolve_version(principal, model_name)
    fitted = registry.load_model(principal, model_name, number)
    if getattr(fitted, "target", None) != TARGET or GOOD not in (fitted.classes or []):
        raise QualityModelError(f"Version {number} of '{model_name}' is not a quality model.")
    run_id = mlflow_store.client().get_model_version(model_name, number).run_id
    return LearnedScorer(version=f"{number}.{run_id[:8]}", probability_good=ProbabilityGood(fitted))


@job_function("quality_model", roles=("supplier", "admin"))
def quality_model_job(ctx: JobContext, params: dict) -> dict:
    def progress(fraction: float, message: str | None = None) -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()

    result = train_quality_model(ctx.principal, params["dataset"], progress=progress)
    ctx.log(f"Registered {result['model']} version {result['version']} ({result['labels']['label_source']} labels)")
    return result
