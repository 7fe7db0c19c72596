"""`python -m ml drift REFERENCE CURRENT --out report.json`: the report's shape, the printed summary, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tables(seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 1200
    frame = pd.DataFrame({
        "Gr Liv Area": np.round(rng.lognormal(7.3, 0.3, n)),
        "Neighborhood": rng.choice(["NAmes", "CollgCr", "OldTown", "Edwards", "Somerst", "Gilbert"], n),
        "Lot Frontage": np.where(rng.random(n) < 0.17, np.nan, np.round(rng.normal(70, 20, n))),
        "Pool QC": np.full(n, np.nan),
    })
    return frame.iloc[:700].reset_index(drop=True), frame.iloc[700:].reset_index(drop=True)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "ml", "drift", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_drift_command_writes_the_report_and_a_readable_summary(tmp_path):
    reference, current = _tables()
    current["Gr Liv Area"] = (current["Gr Liv Area"] * 1.2).round()
    current.loc[current.sample(frac=0.3, random_state=1).index, "Lot Frontage"] = np.nan
    reference.to_csv(tmp_path / "reference.csv", index=False)
    current.to_parquet(tmp_path / "current.parquet")
    out = tmp_path / "reports" / "report.json"

    result = _run(tmp_path / "reference.csv", tmp_path / "current.parquet", "--out", out)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert set(report["drifted"]) == {"Gr Liv Area", "Lot Frontage"}
    assert set(report["columns"]) == {"Gr Liv Area", "Neighborhood", "Lot Frontage", "Pool QC"}
    for entry in report["columns"].values():
        assert isinstance(entry["drifted"], bool)
        assert {"method", "statistic", "effect", "summary"} <= set(entry)
    assert report["columns"]["Gr Liv Area"]["method"] == "mann_whitney"
    assert "Gr Liv Area: median +" in result.stdout
    assert "Lot Frontage: missing 1" in result.stdout and "→ 4" in result.stdout
    assert "2 drifted" in result.stdout


def test_drift_command_reads_jsonl_and_reports_one_sided_columns(tmp_path, capsys):
    from ml.cli import main

    reference, current = _tables(1)
    reference.to_json(tmp_path / "reference.jsonl", orient="records", lines=True)
    # Written with pandas' row numbers as an unnamed first column: dropped, not compared.
    current.drop(columns=["Neighborhood"]).assign(extra=1).to_csv(tmp_path / "current.csv")
    assert main(["drift", str(tmp_path / "reference.jsonl"), str(tmp_path / "current.csv"),
                 "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["columns"]["Neighborhood"]["method"] == "schema"
    assert report["schema"]["only_in_current"] == ["extra"]
    assert "Unnamed: 0" not in report["columns"]
    assert not report["columns"]["Gr Liv Area"]["drifted"]
    assert "Neighborhood: column missing from the current data" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "no_common", "damaged", "empty", "alpha"])
def test_drift_command_bad_input_is_one_line_with_status_2(tmp_path, capsys, case):
    from ml.cli import main

    good = tmp_path / "good.csv"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_csv(good, index=False)
    other = tmp_path / "other.csv"
    args = {
        "missing": [str(tmp_path / "nope.csv"), str(good)],
        "no_common": [str(good), str(other)],
        "damaged": [str(good), str(tmp_path / "bad.parquet")],
        "empty": [str(good), str(tmp_path / "empty.csv")],
        "alpha": [str(good), str(good), "--alpha", "2"],
    }[case]
    pd.DataFrame({"c": [1, 2]}).to_csv(other, index=False)
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SystemExit) if case == "alpha" else _no_exit() as outcome:
        status = main(["drift", *args, "--out", str(tmp_path / "r.json")])
    status = outcome.value.code if case == "alpha" else status
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "r.json").exists()


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_type_change_is_drift_not_a_crash(tmp_path):
    reference, current = _tables(2)
    current["Gr Liv Area"] = current["Gr Liv Area"].map(lambda v: f"{v:.0f} sq ft")
    reference.to_csv(tmp_path / "a.csv", index=False)
    current.to_csv(tmp_path / "b.csv", index=False)
    result = _run(tmp_path / "a.csv", tmp_path / "b.csv", "--out", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["drifted"] == ["Gr Liv Area"]
    assert "numbers became text" in result.stdout
