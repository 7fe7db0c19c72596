"""Shared driver of the ML benchmarks: outer cross-validation of `ml.modelling.fit_model` on a dev file.

Each outer fold trains with exactly the call the product makes (`fit_model(frame, target)`, default budget,
seed and hold-out) on the other folds and scores predictions on the fold the model never saw. Repeats use
different outer shuffles. Prints one line per fold and the mean ± standard deviation over folds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ml.data import load_training_data
from ml.modelling import fit_model, predict


def arguments(default_path: str, target: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=default_path, help="the dev file (read at run time, not copied)")
    parser.add_argument("--target", default=target)
    parser.add_argument("--folds", type=int, default=5, help="outer folds")
    parser.add_argument("--repeats", type=int, default=1, help="outer repeats with different shuffles")
    parser.add_argument("--time-budget", type=float, default=600.0, help="fit_model time_budget_s")
    parser.add_argument("--refit-full", action="store_true",
                        help="fit_model(refit_full=True), as `python -m ml train` does by default")
    parser.add_argument("--max-folds", type=int, default=0, help="stop after this many folds (0 = all)")
    return parser.parse_args()


def outer_cv(args: argparse.Namespace, score: Callable[[np.ndarray, np.ndarray], float], metric: str,
             stratify: bool) -> list[float]:
    from sklearn.model_selection import KFold, StratifiedKFold

    data = load_training_data(args.path)
    frame, target = data.frame, args.target
    print(f"{Path(args.path).name}: {len(frame)} rows, {frame.shape[1]} columns, target {target}; "
          f"{args.repeats}x{args.folds}-fold outer CV, metric {metric}")
    scores, times, chosen = [], [], []
    for repeat in range(args.repeats):
        splitter = (StratifiedKFold if stratify else KFold)(n_splits=args.folds, shuffle=True,
                                                            random_state=1000 + repeat)
        for fold, (train, test) in enumerate(splitter.split(frame, frame[target] if stratify else None)):
            if args.max_folds and len(scores) >= args.max_folds:
                break
            started = time.perf_counter()
            model = fit_model(frame.iloc[train].reset_index(drop=True), target, time_budget_s=args.time_budget,
                              refit_full=args.refit_full)
            seconds = time.perf_counter() - started
            held_out = frame.iloc[test].reset_index(drop=True)
            value = score(held_out[target].to_numpy(), predict(model, held_out.drop(columns=[target])))
            scores.append(value)
            times.append(seconds)
            chosen.append(model.chosen)
            cv = ", ".join(f"{c['name']}={c['cv_score']:.4f}" for c in model.candidates)
            print(f"  repeat {repeat} fold {fold}: {metric} {value:.4f}  fit {seconds:.1f}s  chosen {model.chosen}"
                  f"  [inner CV: {cv}]", flush=True)
    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    print(f"{metric}: mean {statistics.mean(scores):.4f} ± {spread:.4f} (std over {len(scores)} folds), "
          f"min {min(scores):.4f}, max {max(scores):.4f}; fit time mean {statistics.mean(times):.1f}s, "
          f"max {max(times):.1f}s")
    return scores
