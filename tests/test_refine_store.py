"""Refinement inside the stores with the real signal engine: runs, records, validated files, determinism."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from principals import as_admin
from refine_fixtures import refined_dataset
from sqlmodel import select

from core.refine import runs
from core.refine.service import cached_signals, refine_dataset
from core.store.models import RefinementRecord
from core.store.sql import session_scope

ROOT = Path(__file__).resolve().parent.parent


def test_run_records_every_item_with_a_reason_and_writes_validated_items(workbench):
    name, run_id = refined_dataset()
    detail = runs.run_detail(as_admin(), run_id)
    assert detail["status"] == "succeeded" and detail["counts"]["input"] == 44
    with session_scope() as session:
        records = session.exec(select(RefinementRecord).where(RefinementRecord.run_id == run_id)).all()
    assert len(records) == 44
    dropped = [r for r in records if not r.kept]
    assert dropped and all(r.drop_reason for r in dropped)
    assert {r.drop_reason for r in dropped} & {"duplicates:keep_best", "min_length>=1"} or len(dropped) >= 2
    validated = pd.read_parquet(detail["validated_path"])
    assert len(validated) == detail["counts"]["kept"]
    # The uploads recipe redacts personal data in what it keeps.
    assert not validated["text"].str.contains("jane.doe@example.org", regex=False).any()
    assert cached_signals(as_admin(), name) is not None


def test_rerun_with_the_same_recipe_gives_the_same_decisions(workbench):
    name, first = refined_dataset(n=20)
    second = refine_dataset(as_admin(), name)["run_id"]
    a = runs.run_tables(as_admin(), first)[["id", "kept", "drop_reason"]]
    b = runs.run_tables(as_admin(), second)[["id", "kept", "drop_reason"]]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert runs.run_detail(as_admin(), first)["recipe_hash"] == runs.run_detail(as_admin(), second)["recipe_hash"]


def test_interrupted_run_is_failed_and_leaves_no_validated_file(workbench, monkeypatch):
    import core.refine.service as service

    name, _ = refined_dataset(n=10)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, "finish_run", crash)
    with pytest.raises(RuntimeError):
        refine_dataset(as_admin(), name)
    latest = runs.list_runs(as_admin()).iloc[0]
    assert latest["status"] == "failed"
    assert not list(Path(os.environ["DATA_DIR"], "validated", name).glob(f"run-{latest['run_id']}*"))


def test_cli_refine_dataset(workbench):
    from core.config import get_settings

    name, _ = refined_dataset(n=8)
    # The command reads the stores this process just wrote to, named explicitly (not inherited by chance).
    env = {**os.environ, "DATA_DIR": str(get_settings().data_dir)}
    done = subprocess.run([sys.executable, "-m", "core", "refine", "--dataset", name], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["input"] == 12 and runs.run_detail(as_admin(), result["run_id"])["status"] == "succeeded"
