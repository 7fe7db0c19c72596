"""The file lake under DATA_DIR: raw snapshots, processed items, validated subsets.

Every write goes to a temporary sibling and is renamed into place, so a crash
or an interrupted job never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from core.config import Settings, get_settings
from core.safe_names import UnsafeNameError, safe_name
from core.store import processes

ZONES = ("raw", "processed", "validated", "packages")


def zone_path(zone: str, *parts: str, settings: Settings | None = None) -> Path:
    """A path inside one zone; every part must be a safe name (core.safe_names), one path component each.

    This is the last line of defence behind the checks at the entry points: a name that slipped through
    them still cannot climb out of its zone (UnsafeNameError, never a write elsewhere)."""
    if zone not in ZONES:
        raise ValueError(f"Unknown lake zone {zone!r}; expected one of {', '.join(ZONES)}")
    settings = settings or get_settings()
    root = settings.data_dir / zone
    for part in parts:
        safe_name(part, "path part")
    path = root.joinpath(*parts)
    # A symlinked directory inside the zone could still point elsewhere; compare the resolved paths.
    if not path.resolve().is_relative_to(root.resolve()):
        raise UnsafeNameError(f"The path {'/'.join(parts)!r} leads outside the {zone} zone; refused.")
    return path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{processes.temp_owner_tag()}.", suffix=".part",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    processes.mark_in_progress(tmp)  # start-up recovery leaves it alone while we write it
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        processes.mark_done(tmp)
        if tmp.exists():
            tmp.unlink()


def write_parquet(df: pd.DataFrame, target: Path) -> Path:
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False)
    return target


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=columns)


def write_jsonl(rows: Iterable[dict], target: Path) -> int:
    count = 0
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str))
            handle.write("\n")
            count += 1
    return count


def write_json(data: dict, target: Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return target
