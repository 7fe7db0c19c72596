"""The language of an article, from the refinery's detector (py3langid, shipped model)."""

from __future__ import annotations

from core.refine.signals.language import detect_language as _detect


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of `text`; `default` for empty or undecidable text."""
    if not text or len(text.strip()) < 20:
        return default
    try:
        language = _detect(text)[0]
    except Exception:  # noqa: BLE001 - a detector failure must not stop a summary
        return default
    return language if language and language != "und" else default
