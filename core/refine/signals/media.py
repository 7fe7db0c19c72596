"""The media signal family: image, audio and video signals for items whose data_type is image, audio or video.

Uploaded binaries live in the raw store (GridFS, database "uploads"); an item carries the file id in
`fields["gridfs_id"]`. Text items get empty media columns, and media items get their own rules: the rule
scoping in core/refine/rules.py keeps text rules (min_length, language, quality...) off media items
and media rules (image_*, audio_*, video_*, media_problem) off text items. Video is judged by its container
metadata only (core/refine/signals/media_video.py): nothing decodes frames.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import pandas as pd

from core.refine.signals.media_audio import AUDIO_COLUMNS, audio_signals
from core.refine.signals.media_image import IMAGE_COLUMNS, MediaProblem, hamming_pairs, image_signals
from core.refine.signals.media_video import VIDEO_COLUMNS, video_signals

MEDIA_DATA_TYPES = ("image", "audio", "video")
UPLOADS_DATABASE = "uploads"  # where core/sources/ingest.py puts uploaded binaries
# "" when the file was judged; else the short reason (empty, corrupt, truncated, too_large, unsupported).
PROBLEM_COLUMN = "media_problem"
PROBLEM_DETAIL_COLUMN = "media_problem_detail"
MEDIA_COLUMNS = (PROBLEM_COLUMN, PROBLEM_DETAIL_COLUMN, *IMAGE_COLUMNS, *AUDIO_COLUMNS, *VIDEO_COLUMNS)
SIGNALS_BY_TYPE = {"image": image_signals, "audio": audio_signals, "video": video_signals}

BytesLoader = Callable[[dict], bytes]


def _fields(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        return json.loads(value)
    return {}


def raw_store_bytes(fields: dict) -> bytes:
    """The uploaded file behind an item, from the raw store."""
    from core.store.raw import get_raw_store  # deferred: text-only batches never open a connection

    gridfs_id = fields.get("gridfs_id")
    if not gridfs_id:
        raise MediaProblem("missing", "the item names no stored file (fields.gridfs_id is empty)")
    return get_raw_store().get_file(UPLOADS_DATABASE, str(gridfs_id))[0]


def media_row(data_type: str, data: bytes) -> dict:
    """The media columns of one file: its signals, or the problem that stopped them."""
    row = {PROBLEM_COLUMN: "", PROBLEM_DETAIL_COLUMN: ""}
    try:
        row.update(SIGNALS_BY_TYPE[data_type](data))
    except MediaProblem as exc:
        row.update({PROBLEM_COLUMN: exc.kind, PROBLEM_DETAIL_COLUMN: str(exc)[:300]})
    return row


def media_signals(items: pd.DataFrame, load: BytesLoader | None = None) -> pd.DataFrame:
    """MEDIA_COLUMNS for a batch, same index; None everywhere for items that are not media.
    `load` gets an item's fields and returns its file's bytes (default: from the raw store)."""
    load = load or raw_store_bytes
    data_types = items["data_type"] if "data_type" in items else pd.Series("text", index=items.index)
    fields = items["fields"] if "fields" in items else pd.Series([None] * len(items), index=items.index)
    rows = []
    for data_type, value in zip(data_types, fields, strict=True):
        if data_type not in MEDIA_DATA_TYPES:
            rows.append({})
            continue
        try:
            data = load(_fields(value))
        except MediaProblem as exc:
            rows.append({PROBLEM_COLUMN: exc.kind, PROBLEM_DETAIL_COLUMN: str(exc)})
            continue
        rows.append(media_row(data_type, data))
    return pd.DataFrame.from_records(rows, index=items.index, columns=list(MEDIA_COLUMNS)).astype(object)


def is_media(signals: pd.DataFrame) -> np.ndarray:
    """True for the rows whose data_type is a media type (all False when signals carry no data_type)."""
    if "data_type" not in signals:
        return np.zeros(len(signals), dtype=bool)
    return np.isin(signals["data_type"].astype(object).to_numpy(), MEDIA_DATA_TYPES)


def duplicate_links(signals: pd.DataFrame, max_image_bits: int) -> np.ndarray:
    """(member, representative) position pairs: images within `max_image_bits` perceptual-hash bits and
    audio files with the same decoded-content hash."""
    links = [np.empty((0, 2), dtype=np.int64)]
    if "image_phash" in signals:
        hashes = signals["image_phash"].to_numpy(dtype=object)
        positions = np.flatnonzero([isinstance(h, str) and len(h) == 16 for h in hashes])
        if positions.size > 1:
            pairs = hamming_pairs([hashes[p] for p in positions], max_image_bits)
            links.append(positions[pairs[:, ::-1]] if pairs.size else pairs)
    if "audio_content_hash" in signals:
        hashes = signals["audio_content_hash"].to_numpy(dtype=object)
        positions = np.flatnonzero([isinstance(h, str) and bool(h) for h in hashes])
        codes, _ = pd.factorize(hashes[positions])
        if codes.size:
            _, first = np.unique(codes, return_index=True)
            representatives = positions[first[codes]]
            linked = representatives != positions
            links.append(np.column_stack([positions[linked], representatives[linked]]).astype(np.int64))
    return np.concatenate(links)
