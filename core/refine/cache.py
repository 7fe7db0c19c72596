"""Signal cache: one Parquet file per signal family and version, keyed by item id + content hash.

Re-running a pipeline over the same items reads their signals back instead of computing them; an
item whose content changed (new hash) or a family whose version or parameters changed (new file)
is recomputed. Files are replaced atomically, so an interrupted run leaves the previous cache intact.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import xxhash

from core.store.lake import write_parquet

log = logging.getLogger(__name__)

KEY_COLUMNS = ["id", "content_hash"]
CONTENT_COLUMNS = ("text", "title", "data_type", "fields", "source_app", "url")


def _canonical(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def content_hashes(items: pd.DataFrame) -> np.ndarray:
    """xxh3-64 hex digest over everything a signal may read from an item."""
    columns = [items[name].tolist() if name in items else [None] * len(items) for name in CONTENT_COLUMNS]
    return np.array(
        [
            xxhash.xxh3_64_hexdigest("\x1f".join(map(_canonical, row)).encode("utf-8"))
            for row in zip(*columns, strict=True)
        ],
        dtype=object,
    )


class SignalCache:
    """Per-family Parquet files under `directory`, named by the family's cache key."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, cache_key: str) -> Path:
        return self.directory / f"{cache_key}.parquet"

    def _read(self, cache_key: str) -> pd.DataFrame | None:
        path = self._path(cache_key)
        if not path.exists():
            return None
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError, pyarrow.ArrowException) as exc:
            # A damaged cache only costs recomputation; it must never fail a run.
            log.warning("Ignoring unreadable signal cache %s: %s", path, exc)
            return None

    def lookup(
        self, cache_key: str, ids: np.ndarray, hashes: np.ndarray, columns: tuple[str, ...]
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """(found mask over the given items, cached columns for the found items in the given order)."""
        cached = self._read(cache_key)
        if cached is None or not set(columns) <= set(cached.columns):
            return np.zeros(len(ids), dtype=bool), pd.DataFrame(columns=list(columns))
        wanted = pd.DataFrame({"id": ids, "content_hash": hashes, "position": np.arange(len(ids))})
        cached = cached.astype({"id": object, "content_hash": object})
        found = wanted.merge(cached, on=KEY_COLUMNS, how="inner").sort_values("position")
        mask = np.zeros(len(ids), dtype=bool)
        mask[found["position"].to_numpy()] = True
        return mask, found[list(columns)].reset_index(drop=True)

    def store(self, cache_key: str, rows: pd.DataFrame) -> None:
        """Upsert rows (KEY_COLUMNS + signal columns): a stored id is replaced by its new version."""
        if rows.empty:
            return
        previous = self._read(cache_key)
        if previous is not None and list(previous.columns) == list(rows.columns):
            kept = previous[~previous["id"].isin(rows["id"])]
            rows = pd.concat([kept, rows], ignore_index=True)
        write_parquet(rows.reset_index(drop=True), self._path(cache_key))

    def prune(self, family_name: str, current_key: str) -> int:
        """Delete files of other versions of a family; returns how many were removed."""
        removed = 0
        for path in self.directory.glob(f"{family_name}-v*.parquet"):
            if path.stem != current_key:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
