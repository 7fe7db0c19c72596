"""Reading the two tables of a drift comparison and writing its report."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

# The ML layer's readers already handle encodings, delimiters, BOMs and damaged files with messages a user can
# act on; drift only drops the training-specific checks (a single column is fine to compare).
from ml.data import read_any_table
from ml.errors import TrainingDataError


class DriftInputError(TrainingDataError):
    """A drift input cannot be read or compared; the message says what to fix."""


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (any common delimiter or encoding), TSV, Parquet or JSON Lines file as a DataFrame."""
    frame = read_any_table(Path(path).expanduser(), DriftInputError)
    if frame.shape[1] == 0:
        raise DriftInputError(f"{path.name} has no columns; give a file with a header row and data rows.")
    if frame.empty:
        raise DriftInputError(f"{path.name} has a header but no data rows.")
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return _without_saved_index(frame)


def _without_saved_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the row numbers pandas writes as an unnamed first column (`to_csv()` without index=False).

    They say how many rows a file has, not what is in them: a 150-row batch would otherwise "drift" from its
    2,000-row reference on them alone.
    """
    first = frame.columns[0]
    if first.startswith("Unnamed: 0") and frame.shape[1] > 1:
        values = pd.to_numeric(frame[first], errors="coerce")
        if values.notna().all() and (values.to_numpy() == np.arange(len(frame))).all():
            return frame.drop(columns=[first])
    return frame


def write_report(report: dict, out: str | Path) -> Path:
    """Write the report as JSON (atomically: a reader never sees half a file)."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_plain(report), indent=2, ensure_ascii=False, allow_nan=False)
    handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out


def _plain(value):
    """JSON-safe copy: numpy scalars to Python, NaN and infinity to null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
