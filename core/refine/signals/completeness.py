"""Completeness: are the fields an item of its kind needs present, and is there enough text?"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

# Which fields an item must carry, by data_type; "data_type:source_app" refines it for one application.
DEFAULT_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "listing": ("title", "price", "currency", "location"),
    "listing:property": ("title", "price", "currency", "location", "area_m2"),
    "tabular": ("text",),
    "image": ("url",),
    "audio": ("url",),
}
# Characters of text at which the length part of the score reaches 1, by data_type.
DEFAULT_GOOD_TEXT_CHARS: dict[str, int] = {
    "text": 1000,
    "listing": 200,
    "tabular": 200,
    "image": 0,
    "audio": 0,
}
# How much of the score text length carries; the rest is the share of required fields present.
# A listing is mostly its fields; a text is mostly its text.
LENGTH_WEIGHT = {"text": 1.0, "tabular": 1.0, "listing": 0.3}
TOP_LEVEL_FIELDS = ("text", "title", "url")

COMPLETENESS_COLUMNS = ("text_length", "required_fields_missing", "missing_fields", "completeness")


def _present(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, float):
        return value == value  # NaN is missing
    return True


def _missing(row_fields, text, title, url, required: tuple[str, ...]) -> list[str]:
    fields = row_fields if isinstance(row_fields, dict) else {}
    top_level = {"text": text, "title": title, "url": url}
    return [
        name
        for name in required
        if not _present(top_level[name] if name in TOP_LEVEL_FIELDS else fields.get(name))
    ]


def completeness_signals(
    items: pd.DataFrame, required_fields: Mapping[str, tuple[str, ...]], good_text_chars: Mapping[str, int]
) -> pd.DataFrame:
    """text_length, required_fields_missing (count), missing_fields (";"-joined names) and completeness."""
    n = len(items)
    texts = items["text"] if "text" in items else pd.Series([""] * n, index=items.index)
    text_length = np.fromiter((len(t) if isinstance(t, str) else 0 for t in texts), dtype=np.int64, count=n)
    column = {
        name: (items[name].tolist() if name in items else [None] * n)
        for name in ("data_type", "source_app", "fields", "title", "url")
    }
    data_types = [d if isinstance(d, str) else "text" for d in column["data_type"]]
    missing_lists, required_counts = [], np.zeros(n)
    for i, (data_type, app) in enumerate(zip(data_types, column["source_app"], strict=True)):
        required = required_fields.get(f"{data_type}:{app}", required_fields.get(data_type, ()))
        required_counts[i] = len(required)
        missing_lists.append(
            _missing(column["fields"][i], texts.iat[i], column["title"][i], column["url"][i], tuple(required))
        )
    missing_counts = np.fromiter(map(len, missing_lists), dtype=np.int64, count=n)
    field_share = np.where(required_counts > 0, 1 - missing_counts / np.maximum(required_counts, 1), 1.0)
    good_chars = np.array([good_text_chars.get(d, 0) for d in data_types], dtype=float)
    # Logarithmic: the first hundred characters matter far more than the second thousand.
    # Types with no text target (images, audio) count as complete on length; divide only where there is one.
    length_part = np.ones(n)
    has_target = good_chars > 0
    length_part[has_target] = np.minimum(1.0, np.log1p(text_length[has_target]) / np.log1p(good_chars[has_target]))
    length_weight = np.array([LENGTH_WEIGHT.get(d, 0.0) for d in data_types])
    score = field_share * (1 - length_weight + length_weight * length_part)
    return pd.DataFrame(
        {
            "text_length": text_length,
            "required_fields_missing": missing_counts,
            "missing_fields": [";".join(names) for names in missing_lists],
            "completeness": np.clip(score, 0.0, 1.0),
        },
        index=items.index,
    )
