"""`python -m ml train / predict / models` as a user runs them, in subprocesses on the test DATA_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
from ml_fixtures import FAST_BUDGET_S, class_table

ROOT = Path(__file__).resolve().parent.parent


def _ml(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "ml", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


def test_train_predict_models_round_trip(workbench, tmp_path):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    train = class_table(n=80, seed=1)
    train.insert(0, "id", [f"row{i}" for i in range(len(train))])
    train_path = tmp_path / "train.csv"
    train_path.write_bytes(b"\xef\xbb\xbf" + train.to_csv(index=False).encode())  # with a BOM, like Excel writes

    trained = _ml("train", train_path, "--target", "label", "--name", name, "--task", "classification",
                  "--time-budget", FAST_BUDGET_S)
    assert trained.returncode == 0, trained.stderr
    assert f"Registered {name} version 1 [champion]" in trained.stdout
    assert "accuracy=" in trained.stdout and "Traceback" not in trained.stderr

    score = class_table(n=25, seed=9).drop(columns=["label"]).sample(frac=1.0, random_state=4)
    score.insert(0, "id", [f"s{i}" for i in score.index])
    score_path, out = tmp_path / "score.csv", tmp_path / "out" / "pred.csv"
    score.to_csv(score_path, index=False)
    predicted = _ml("predict", name, score_path, "--out", out, "--version", "1")
    assert predicted.returncode == 0, predicted.stderr
    result = pd.read_csv(out)
    assert list(result.columns) == ["id", "prediction"]
    assert list(result["id"]) == list(score["id"])  # input order and ids kept
    expected = ["high" if v > 0 else "low" for v in score["x1"]]
    assert (result["prediction"] == expected).mean() >= 0.9

    listed = _ml("models")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    own = next(i for i, li in enumerate(lines) if name in li)  # the model's heading; its versions follow
    line = next(li for li in lines[own:] if li.strip().startswith("v1"))
    assert "[champion]" in line and "accuracy=" in line


def test_errors_are_one_line_with_exit_2(workbench, tmp_path, capsys):
    from ml.cli import main

    one_column = tmp_path / "one-column.csv"
    class_table(n=5, seed=2)[["x1"]].to_csv(one_column, index=False)  # scorable input, though no id
    # A real process: one line on stderr, status 2, no traceback.
    result = _ml("predict", "no-such-model", one_column, "--out", tmp_path / "p.csv")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "error: No model named 'no-such-model' that you can use."
    # The other failures through the same entry point, in this process (each import costs seconds).
    cases = [
        (["train", str(tmp_path / "missing.csv"), "--target", "y", "--name", "m"], "No file at"),
        (["train", str(one_column), "--target", "y"], "required: --name"),
        (["train", str(one_column), "--target", "y", "--name", "../x"], "model name"),
        (["predict", "m", str(one_column), "--out", str(tmp_path), "--version", "newest"], "No model named"),
    ]
    for args, message in cases:
        try:
            status = main(args)
        except SystemExit as exc:  # argparse's usage errors leave through SystemExit
            status = exc.code
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert status == 2 and len(errors) == 1 and message in errors[0], (args, err)
