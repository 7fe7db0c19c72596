"""Scoring the cross-validated candidates, searching blend weights on their out-of-fold predictions, and
ranking singles and blends.

Blends: the best linear + the best boosting variant (averaged predictions or probabilities); for text classes,
the best word-only + the best word+char model (summed margins).
"""

from __future__ import annotations

import numpy as np

from ml import evaluate
from ml.selection import VariantResult

BLEND_WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # weight of the linear model in the blend


def _score(task: str, y, oof) -> float:
    """RMSE (lower is better) for regression, accuracy (higher is better) for classification."""
    if task == "regression":
        return evaluate.rmse(y, oof)
    return float(np.mean(np.asarray(y, dtype=object) == np.asarray(oof, dtype=object)))


def _best(task, results: dict, y, family_prefix: str, need_proba: bool = False) -> VariantResult | None:
    pool = [r for r in results.values() if r.family.startswith(family_prefix) and (r.proba is not None or
                                                                                    not need_proba)]
    if not pool:
        return None
    key = (lambda r: _score(task, y, r.oof)) if task == "regression" else (lambda r: -_score(task, y, r.oof))
    return min(pool, key=key)


def _view_blend_candidate(results, y, classes):
    """Text classes: the weighted sum of the margins of the best word-only and the best word+char model
    (two views of the same text; their errors differ more than those of two C values of one view)."""
    words = [r for r in results.values() if r.family == "linear" and r.margins is not None]
    chars = [r for r in results.values() if r.family == "linear+chars" and r.margins is not None]
    if not words or not chars:
        return None
    first = max(words, key=lambda r: _score("classification", y, r.oof))
    second = max(chars, key=lambda r: _score("classification", y, r.oof))
    labels = np.asarray(classes, dtype=object)
    best = None
    for weight in BLEND_WEIGHTS:
        oof = labels[(weight * first.margins + (1 - weight) * second.margins).argmax(axis=1)]
        score = _score("classification", y, oof)
        if best is None or score > best[0]:
            best = (score, weight)
    return {"linear": first.name, "boosting": second.name, "weight": best[1], "score": best[0],
            "seconds": first.seconds + second.seconds, "combine": "margins"}


def _blend_candidate(task, results, y, classes):
    """The best blend weight of the best linear and boosting variants, judged on out-of-fold predictions."""
    linear = _best(task, results, y, "linear", need_proba=task != "regression")
    boosting = _best(task, results, y, "boosting", need_proba=task != "regression")
    if linear is None or boosting is None:
        return None
    best = None
    for weight in BLEND_WEIGHTS:
        if task == "regression":
            oof = weight * linear.oof + (1 - weight) * boosting.oof
            score = evaluate.rmse(y, oof)
            better = best is None or score < best[0]
        else:
            proba = weight * linear.proba + (1 - weight) * boosting.proba
            oof = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
            score = _score(task, y, oof)
            better = best is None or score > best[0]
        if better:
            best = (score, weight)
    return {"linear": linear.name, "boosting": boosting.name, "weight": best[1], "score": best[0],
            "seconds": linear.seconds + boosting.seconds}


def rank(task, results: dict, y_model, classes, log_target: bool) -> tuple[list[dict], dict]:
    """Every single candidate and blend with its cross-validated score (the list stored on FittedModel), and
    the best of them."""
    metric = ("rmse_log1p" if log_target else "rmse") if task == "regression" else "accuracy"
    candidates = [{"name": name, "kind": "single", "cv_score": round(_score(task, y_model, r.oof), 6),
                   "cv_metric": metric, "fit_seconds": round(r.seconds, 3)} for name, r in results.items()]
    blends = [_blend_candidate(task, results, y_model, classes)]
    if task == "classification":
        blends.append(_view_blend_candidate(results, y_model, classes))
    for blend in filter(None, blends):
        candidates.append({"name": f"blend({blend['linear']} {blend['weight']:.1f} + {blend['boosting']})",
                           "kind": "blend", "cv_score": round(blend["score"], 6), "cv_metric": metric,
                           "fit_seconds": round(blend["seconds"], 3), "linear": blend["linear"],
                           "boosting": blend["boosting"], "weight": blend["weight"],
                           "combine": blend.get("combine", "predictions" if task == "regression" else "proba")})
    lower_is_better = task == "regression"
    # Ties go to the simpler (earlier, single) candidate.
    best = min(range(len(candidates)), key=lambda i: ((candidates[i]["cv_score"] if lower_is_better
                                                       else -candidates[i]["cv_score"]), i))
    return candidates, candidates[best]
