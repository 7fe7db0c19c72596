"""Applying a recipe to cached signals: numpy masks in rule order, every drop with the first rule's reason.

Nothing here reads text or recomputes a signal, so moving a threshold re-decides 100,000 items in a
fraction of a second. Missing values (NaN) are not judged by a threshold; an item whose signals
failed to compute is dropped first, with reason "signal_error".

Rules are scoped by modality: a rule on a media column (image_*, audio_*, media_problem) judges only
image and audio items, the text rules (min_length, languages, other columns) only the rest; pii and
duplicates judge every item (a photo's EXIF GPS is personal data, a resized copy is a duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.refine.recipe import Recipe, RecipeError, Rule
from core.refine.signals.base import SIGNAL_ERRORS
from core.refine.signals.media import MEDIA_COLUMNS, is_media
from core.refine.signals.pii import redact_pii
from core.refine.signals.quality import SUB_SCORES, quality_score

SIGNAL_ERROR_REASON = "signal_error"


@dataclass
class _Evaluation:
    kept: np.ndarray
    reasons: np.ndarray
    funnel: list[dict]


def _column(signals: pd.DataFrame, rule: Rule, name: str | None = None) -> pd.Series:
    name = name or rule.column
    if name not in signals:
        raise RecipeError(
            f"Rule '{rule.label}' needs the signal column {name!r}, which these signals lack; "
            f"available: {', '.join(map(str, signals.columns))}"
        )
    return signals[name]


def _numbers(series: pd.Series, rule: Rule) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    if values.isna().all() and series.notna().any():
        raise RecipeError(f"Rule '{rule.label}' compares numbers but column {series.name!r} is not numeric")
    return values.to_numpy(dtype=float)


def _drop_masks(signals: pd.DataFrame, rule: Rule, kept: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """(mask of items the rule drops, reason) pairs, in the order the reasons take precedence."""
    if rule.kind in ("min_length", "threshold"):
        values = _numbers(_column(signals, rule), rule)
        prefix = "min_length" if rule.kind == "min_length" else f"min_{rule.column}"
        masks = []
        with np.errstate(invalid="ignore"):
            if rule.min is not None:
                masks.append((values < rule.min, f"{prefix}<{rule.min:g}"))
            if rule.max is not None:
                masks.append((values > rule.max, f"max_{rule.column}>{rule.max:g}"))
        return masks
    if rule.kind == "languages":
        language = _column(signals, rule).astype(object).to_numpy()
        masks = []
        if rule.allowed is not None:
            masks.append((~np.isin(language, list(rule.allowed)), "language_not_allowed"))
        if rule.min_confidence > 0:
            confidence = _numbers(_column(signals, rule, "language_confidence"), rule)
            masks.append(
                (
                    np.nan_to_num(confidence, nan=0.0) < rule.min_confidence,
                    f"language_confidence<{rule.min_confidence:g}",
                )
            )
        return masks
    if rule.kind == "values":
        values = _column(signals, rule).astype(object).to_numpy()
        if rule.allowed is not None:
            return [(~np.isin(values, list(rule.allowed)), f"{rule.column}_not_allowed")]
        return [(values == value, f"{rule.column}={value}") for value in rule.exclude]
    if rule.kind == "pii":
        if rule.policy != "drop":
            return []
        found = _numbers(_column(signals, rule, "pii_count"), rule) > 0
        if "image_personal_exif" in signals:
            exif = signals["image_personal_exif"].to_numpy(dtype=object)
            found |= np.array([isinstance(v, str) and bool(v) for v in exif], dtype=bool)
        return [(found, "pii_found")]
    if rule.kind == "duplicates":
        if rule.policy == "keep_all":
            return []
        return [(_duplicate_losers(signals, rule, kept), "duplicate")]
    raise RecipeError(f"Unknown rule kind {rule.kind!r}")


def _rule_scope(rule: Rule, media_rows: np.ndarray) -> np.ndarray | None:
    """The rows a rule may drop (None: all rows); see the module docstring."""
    if rule.kind in ("pii", "duplicates"):
        return None
    if rule.column in MEDIA_COLUMNS:
        return media_rows
    return ~media_rows


def _duplicate_losers(signals: pd.DataFrame, rule: Rule, kept: np.ndarray) -> np.ndarray:
    """Items still kept that are not the best member of their duplicate cluster.

    Best = highest quality among the members still kept (for images: most megapixels, so the original
    beats its resized copy), ties to the smallest id, so exactly one member of every cluster with a kept
    member survives this rule."""
    clusters = _column(signals, rule, "duplicate_cluster").astype(object).to_numpy()
    alive = np.flatnonzero(kept)
    codes, _ = pd.factorize(clusters[alive])
    sizes = np.bincount(codes) if codes.size else np.zeros(0, dtype=int)
    shared = sizes[codes] > 1 if codes.size else np.zeros(0, dtype=bool)
    members, member_codes = alive[shared], codes[shared]
    losers = np.zeros(len(signals), dtype=bool)
    if members.size == 0:
        return losers
    score = _numbers(_column(signals, rule, "quality"), rule)
    if "image_megapixels" in signals:  # a cluster is all images or none: media and text never link
        megapixels = pd.to_numeric(signals["image_megapixels"], errors="coerce").to_numpy(dtype=float)
        score = np.where(np.isnan(megapixels), score, megapixels)
    quality = np.nan_to_num(score[members], nan=-np.inf)
    ids = signals["id"].astype(str).to_numpy()[members]
    id_rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    order = np.lexsort((id_rank, -quality, member_codes))
    first = np.concatenate(([True], member_codes[order][1:] != member_codes[order][:-1]))
    losers[members[order[~first]]] = True
    return losers


def _with_recipe_quality(signals: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """Signals whose `quality` is the weighted mean with this recipe's weights (sub-scores permitting)."""
    if all(name in signals for name in SUB_SCORES):
        return signals.assign(quality=quality_score(signals, recipe.quality_weights))
    return signals


def _evaluate(signals: pd.DataFrame, recipe: Recipe) -> _Evaluation:
    if "id" not in signals:
        raise RecipeError("signals need an 'id' column")
    signals = _with_recipe_quality(signals, recipe)
    n = len(signals)
    kept = np.ones(n, dtype=bool)
    reasons = np.full(n, "", dtype=object)
    funnel = []
    steps = []
    if SIGNAL_ERRORS in signals:
        failed = signals[SIGNAL_ERRORS].fillna("").astype(str).str.len().to_numpy() > 0
        steps.append((SIGNAL_ERROR_REASON, lambda _kept: [(failed, SIGNAL_ERROR_REASON)]))
    media_rows = is_media(signals)
    for rule in recipe.rules:
        scope = _rule_scope(rule, media_rows)
        steps.append((rule.label, lambda current, rule=rule, scope=scope: [
            (mask if scope is None else mask & scope, reason) for mask, reason in _drop_masks(signals, rule, current)
        ]))
    for label, drop_masks in steps:
        dropped_here = 0
        for mask, reason in drop_masks(kept):
            newly = kept & mask
            reasons[newly] = reason
            kept &= ~newly
            dropped_here += int(newly.sum())
        funnel.append({"rule": label, "dropped": dropped_here, "remaining": int(kept.sum())})
    return _Evaluation(kept=kept, reasons=reasons, funnel=funnel)


def evaluate(signals: pd.DataFrame, recipe: Recipe) -> tuple[pd.DataFrame, list[dict]]:
    """The decisions (as apply_recipe) and the funnel (as rule_funnel) of one pass over the rules."""
    result = _evaluate(signals, recipe)
    decisions = pd.DataFrame(
        {"id": signals["id"].to_numpy(dtype=object), "kept": result.kept, "drop_reason": result.reasons}
    )
    return decisions, result.funnel


def apply_recipe(signals: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """id, kept, drop_reason ("" when kept; else the first rule that dropped the item), in signal order."""
    return evaluate(signals, recipe)[0]


def rule_funnel(signals: pd.DataFrame, recipe: Recipe) -> list[dict]:
    """Per rule in order: how many items it dropped and how many remain after it."""
    return _evaluate(signals, recipe).funnel


def texts_for_export(texts: pd.Series, signals: pd.DataFrame, recipe: Recipe) -> pd.Series:
    """The texts as a dataset should carry them: PII replaced by [EMAIL], [PHONE] ... under a redact
    policy (only texts with findings are rescanned), unchanged otherwise."""
    if recipe.pii_policy != "redact" or "pii_count" not in signals:
        return texts
    has_pii = pd.to_numeric(signals["pii_count"], errors="coerce").fillna(0).to_numpy() > 0
    out = texts.astype(object).copy()
    positions = np.flatnonzero(has_pii)
    out.iloc[positions] = [redact_pii(t) if isinstance(t, str) else t for t in texts.iloc[positions]]
    return out
