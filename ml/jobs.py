"""ML work as jobs: train (and register), score a dataset, retrain watched models.

The job functions are thin: they call the same service functions that the CLI calls, with the job's
principal (re-checked by the job runner when the job starts) and its progress bar.
"""

from __future__ import annotations

from core.auth import Principal
from core.store.jobs import JobContext, job_function
from core.tenancy import require_supplier

ML_ROLES = ("supplier", "admin")
DEFAULT_TIME_BUDGET_S = 600.0


def train_and_register(principal: Principal | None, source: str, target: str, name: str, *,
                       task: str | None = None, text_columns: list[str] | None = None,
                       time_budget_s: float = DEFAULT_TIME_BUDGET_S, seed: int = 0, holdout_fraction: float = 0.2,
                       refit_full: bool = True, description: str = "", progress=None) -> dict:
    """Train a model of `target` on `source` (a file, `dataset:NAME` or `package:NAME[@V]`) and register it
    as a new version of `name`. Returns the version's summary (JSON-safe, for the job row and the CLI).

    With `refit_full` (the default) the served pipeline is refitted on every row after the held-out
    evaluation; the metrics then describe the same method trained without the held-out rows.
    """
    from ml import registry
    from ml.data import load_training_data
    from ml.modelling import fit_model

    require_supplier(principal, "train models")
    registry.check_name(name)
    if task not in (None, "regression", "classification"):
        raise ValueError(f"Task must be 'regression' or 'classification', not {task!r}.")
    report = progress or (lambda fraction, message: None)
    report(0.0, f"Loading {source}")
    data = load_training_data(source, principal)
    registry.check_registrable(principal, name)  # before minutes of training, not after
    fitted = fit_model(data.frame, target, task=task, text_columns=text_columns, time_budget_s=time_budget_s,
                       seed=seed, holdout_fraction=holdout_fraction, refit_full=refit_full,
                       progress=lambda fraction, message: report(0.02 + 0.9 * fraction, message))
    report(0.93, f"Registering a new version of {name}")
    settings = {"source": source, "target": target, "task": task, "text_columns": text_columns,
                "time_budget_s": time_budget_s, "seed": seed, "holdout_fraction": holdout_fraction,
                "refit_full": refit_full}
    version = registry.register_model(principal, name, fitted, lineage=data.lineage, settings=settings,
                                      description=description)
    report(1.0, f"Registered {name} version {version['version']}")
    return summary(version, fitted)


def summary(version: dict, fitted=None) -> dict:
    """What a caller needs to show about a new version, in JSON types."""
    from ml.registry import _scalar_metrics

    out = {"model": version["name"], "version": version["version"], "aliases": version["aliases"],
           "task": version["task"], "target": version["target"], "chosen": version["chosen"],
           "metrics": _scalar_metrics(version["metrics"]), "run_id": version["run_id"]}
    if fitted is not None:
        out["notes"] = list(getattr(fitted, "notes", []) or [])
    return out


@job_function("train", roles=ML_ROLES)
def train_job(ctx: JobContext, params: dict) -> dict:
    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction, message)
        ctx.check_cancelled()

    result = train_and_register(
        ctx.principal, params["source"], params["target"], params["name"], task=params.get("task"),
        text_columns=params.get("text_columns"), time_budget_s=float(params.get("time_budget_s",
                                                                               DEFAULT_TIME_BUDGET_S)),
        seed=int(params.get("seed", 0)), holdout_fraction=float(params.get("holdout_fraction", 0.2)),
        refit_full=bool(params.get("refit_full", True)), description=params.get("description", ""),
        progress=progress)
    ctx.log(f"Registered {result['model']} version {result['version']} ({result['chosen']}): "
            + ", ".join(f"{k}={v:.4g}" for k, v in result["metrics"].items()))
    return result


@job_function("predict", roles=ML_ROLES)
def predict_job(ctx: JobContext, params: dict) -> dict:
    from ml.predict import score_dataset

    result = score_dataset(ctx.principal, params["dataset"], params["model"], params.get("version"),
                           progress=ctx.progress)
    ctx.log(f"Scored {result['rows']:,} items of {params['dataset']} with {result['model']} "
            f"version {result['version']}")
    return result


@job_function("retrain", roles=ML_ROLES)
def retrain_job(ctx: JobContext, params: dict) -> dict:
    from ml.continuous import check_watched

    decisions = check_watched(ctx.principal, dataset=params.get("dataset"), package=params.get("package"),
                              progress=ctx.progress)
    for decision in decisions:
        ctx.log(f"{decision['model']}: {decision['decision']} - {decision['reason']}")
    return {"decisions": decisions}
