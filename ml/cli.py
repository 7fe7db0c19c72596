"""`python -m ml`: train, predict and list models from a terminal, as the local operator (an admin).

    python -m ml train DATA --target COL --name NAME [--task regression|classification] [--text COL]
    python -m ml predict NAME DATA --out PRED.csv [--version V]
    python -m ml models
    python -m ml drift REFERENCE CURRENT --out REPORT.json [--columns A,B] [--alpha 0.01]

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


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1 (e.g. 0.01)")
    return value


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


def _cmd_drift(args: argparse.Namespace) -> int:
    from ml.drift import compare_frames
    from ml.drift.files import DriftInputError, read_table, write_report

    reference, current = read_table(args.reference), read_table(args.current)
    if not set(reference.columns) & set(current.columns):
        raise DriftInputError(f"{args.reference} and {args.current} have no column in common; compare two "
                              "versions of the same table.")
    columns = [c.strip() for group in args.columns or [] for c in group.split(",") if c.strip()] or None
    report = compare_frames(reference, current, columns=columns, alpha=args.alpha)
    if args.out:
        write_report(report, args.out)
    compared = len(report["columns"])
    print(f"Compared {len(current):,} current rows with {len(reference):,} reference rows over {compared} "
          f"column(s): {len(report['drifted'])} drifted.")
    for line in report["summary"]:
        print(f"  {line}")
    if args.out:
        print(f"Report written to {args.out}")
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
    drift = sub.add_parser("drift", help="Compare CURRENT with REFERENCE column by column; report what drifted.",
                           description="Compare CURRENT with REFERENCE column by column (CSV, Parquet or JSON "
                                       "Lines) and report which columns drifted, with readable effect sizes.")
    drift.add_argument("reference", metavar="REFERENCE", help="the data to compare against (e.g. training data)")
    drift.add_argument("current", metavar="CURRENT", help="the new data")
    drift.add_argument("--out", metavar="REPORT.json", help="write the full report as JSON here")
    drift.add_argument("--columns", action="append", metavar="COL",
                       help="compare only these columns (repeat or comma-separate); default: all")
    drift.add_argument("--alpha", type=_alpha, default=0.01, metavar="A",
                       help="false discovery rate across columns (default 0.01)")
    drift.set_defaults(handler=_cmd_drift)
    return parser


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Errors whose message is meant for the user. Core's are only looked up once a command has loaded core, so
    `drift` (pure pandas/scipy) does not pay seconds of store imports just to name exceptions it cannot raise."""
    types: list[type[BaseException]] = [ValueError, OSError]
    if "core.auth" in sys.modules:
        types.append(sys.modules["core.auth"].PermissionDenied)
    if "core.config" in sys.modules:
        types.append(sys.modules["core.config"].SettingsError)
    return tuple(types)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        if isinstance(exc, _user_error_types()):
            # TrainingDataError and RegistryError are ValueErrors whose message says what to fix.
            return _fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unexpected failure'}")
