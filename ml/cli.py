"""`python -m ml`: train, predict and list models from a terminal, as the local operator (an admin).

    python -m ml train DATA --target COL --name NAME [--task regression|classification] [--text COL]
    python -m ml predict NAME DATA --out PRED.csv [--version V]
    python -m ml models

DATA is a CSV, TSV, Parquet or JSON Lines file, `dataset:NAME` (a dataset's latest validated items) or
`package:NAME[@VERSION]`. Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: same one-line shape, same status
        self.print_usage(sys.stderr)
        raise SystemExit(_fail(message))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _principal():
    from core.auth import cli_principal
    from core.bootstrap import init_workbench

    init_workbench()
    return cli_principal()


def _format_metrics(metrics: dict) -> str:
    return "  ".join(f"{key}={value:.4g}" for key, value in metrics.items())


def _cmd_train(args: argparse.Namespace) -> int:
    from core.store.jobs import run_foreground

    text = [c.strip() for group in args.text or [] for c in group.split(",") if c.strip()] or None
    params = {"source": args.data, "target": args.target, "name": args.name, "task": args.task,
              "text_columns": text}
    if args.time_budget is not None:
        params["time_budget_s"] = args.time_budget
    outcome = run_foreground("train", params, _principal(), echo=lambda line: print(line, file=sys.stderr))
    if outcome["status"] != "succeeded":
        return _fail(_job_error(outcome["error"]))
    result = outcome["result"]
    aliases = f" [{', '.join(result['aliases'])}]" if result["aliases"] else ""
    print(f"Registered {result['model']} version {result['version']}{aliases}: {result['task']} of "
          f"{result['target']} with {result['chosen']}")
    print(f"Held-out metrics: {_format_metrics(result['metrics'])}")
    for note in result.get("notes", []):
        print(f"  note: {note}")
    return 0


def _job_error(error: str | None) -> str:
    """A job's recorded error without the exception class name that the job runner puts in front."""
    text = (error or "training failed").strip().splitlines()[0]
    head, sep, rest = text.partition(": ")
    if sep and head.isidentifier() and (head.endswith(("Error", "Denied", "Exception"))):
        return rest
    return text


def _cmd_predict(args: argparse.Namespace) -> int:
    from ml.predict import predict_file

    result = predict_file(_principal(), args.name, args.data, args.out, args.version)
    print(f"Wrote {result['rows']:,} predictions of {result['model']} version {result['version']} to "
          f"{result['out']}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from ml.registry import list_models

    models = list_models(_principal())
    if not models:
        print("No models yet. Train one: python -m ml train DATA --target COL --name NAME")
        return 0
    for model in models:
        aliases = ", ".join(f"{alias}=v{version}" for alias, version in sorted(model["aliases"].items()))
        print(f"{model['name']}  (owner {model['owner_email'] or '-'}; {aliases or 'no aliases'})")
        for version in model["versions"]:
            marks = f" [{', '.join(version['aliases'])}]" if version["aliases"] else ""
            source = version["lineage"].get("source", "")
            print(f"  v{version['version']}{marks}  {version['created_at']:%Y-%m-%d %H:%M}  {version['task']} of "
                  f"{version['target']}  {version['chosen'] or ''}  {_format_metrics(version['metrics'])}"
                  + (f"  data={source}" if source else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ml", description="Train, register and serve models on workbench data.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    train = sub.add_parser("train", help="Train a model and register it as a new version; prints its metrics.",
                           description="Train a model on DATA and register it as a new version of NAME.")
    train.add_argument("data", metavar="DATA", help="CSV/Parquet/JSONL file, dataset:NAME or package:NAME[@V]")
    train.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    train.add_argument("--name", required=True, metavar="NAME", help="the registered model's name")
    train.add_argument("--task", choices=("regression", "classification"), help="default: chosen from the target")
    train.add_argument("--text", action="append", metavar="COL",
                       help="a free-text column (repeat or comma-separate for several); default: detected")
    train.add_argument("--time-budget", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    train.set_defaults(handler=_cmd_train)
    predict = sub.add_parser("predict", help="Score DATA with a model version and write a CSV of predictions.",
                             description="Write one prediction per row of DATA, in input order, to --out.")
    predict.add_argument("name", metavar="NAME", help="the registered model's name")
    predict.add_argument("data", metavar="DATA", help="CSV/Parquet/JSONL file, dataset:NAME or package:NAME[@V]")
    predict.add_argument("--out", required=True, metavar="PRED.csv", help="where to write the predictions")
    predict.add_argument("--version", metavar="V", help="a version number or alias (default: the champion)")
    predict.set_defaults(handler=_cmd_predict)
    models = sub.add_parser("models", help="List models and their versions with metrics and aliases.",
                            description="List models and their versions with metrics and aliases.")
    models.set_defaults(handler=_cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.auth import PermissionDenied
    from core.config import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, PermissionDenied, SettingsError, OSError) as exc:
        # TrainingDataError and RegistryError are ValueErrors whose message says what to fix.
        return _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        return _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected failure'}")
