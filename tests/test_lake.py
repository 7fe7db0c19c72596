import json

import pandas as pd
import pytest

from core.store import lake


def test_parquet_and_jsonl_written_atomically(tmp_path):
    target = tmp_path / "processed" / "items.parquet"
    lake.write_parquet(pd.DataFrame({"id": ["a", "b"], "score": [0.5, 1.0]}), target)
    assert lake.read_parquet(target)["score"].tolist() == [0.5, 1.0]
    assert lake.write_jsonl([{"id": 1}, {"id": 2, "t": "é"}], tmp_path / "v.jsonl") == 2
    assert json.loads((tmp_path / "v.jsonl").read_text().splitlines()[1])["t"] == "é"


def test_interrupted_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "validated.jsonl"
    lake.write_jsonl([{"id": "old"}], target)

    def rows():
        yield {"id": "new"}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        lake.write_jsonl(rows(), target)
    assert json.loads(target.read_text())["id"] == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["validated.jsonl"]


def test_unknown_zone_refused(workbench):
    with pytest.raises(ValueError, match="Unknown lake zone"):
        lake.zone_path("secret")
    assert lake.zone_path("raw").name == "raw"
