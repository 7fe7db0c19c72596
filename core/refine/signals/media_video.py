"""Container metadata of one video file: container, duration, resolution and codec.

Read with hachoir, a pure-Python parser of MP4/MOV, Matroska/WebM, AVI, ASF/WMV and FLV headers: nothing
is decoded (no frames, so no codec library is needed) and a file whose header does not parse is refused.
"""

from __future__ import annotations

import io

from hachoir.core import config as hachoir_config
from hachoir.metadata import extractMetadata
from hachoir.parser import guessParser
from hachoir.stream import InputIOStream

from core.refine.signals.media_image import MediaProblem

hachoir_config.quiet = True  # hachoir prints parser warnings to stderr; problems are reported as MediaProblem

VIDEO_COLUMNS = ("video_container", "video_duration_s", "video_width", "video_height", "video_codec")
# MP4/MOV boxes that lead from the movie to a track's sample description (where the codec fourcc is).
_MP4_PATH = ("movie", "track", "media", "minf", "stbl", "stsd")


def _parser(data: bytes):
    stream = InputIOStream(io.BytesIO(data), source="upload", tags=[])
    try:
        return guessParser(stream)
    except Exception as exc:  # noqa: BLE001 - hachoir raises many kinds for damaged headers
        raise MediaProblem("corrupt", f"the video container header does not parse: {exc}") from None


def _mp4_codecs(node, depth: int = 0) -> list[str]:
    """Sample-entry fourccs (avc1, hvc1, mp4a...) of an MP4/MOV file, in track order."""
    codecs = []
    for child in node:
        if not child.is_field_set or depth > 12:
            continue
        if child.name.startswith("sample_entry[") and "format" in child:
            codecs.append(bytes(child["format"].value).decode("latin-1").strip())
        elif child.name.startswith("atom[") or child.name in _MP4_PATH:
            codecs.extend(_mp4_codecs(child, depth + 1))
    return codecs


def _groups(metadata) -> list:
    """The metadata itself plus its per-stream groups (Matroska, AVI and ASF list streams separately)."""
    groups = [metadata]
    if hasattr(metadata, "iterGroups"):
        groups.extend(metadata.iterGroups())
    return groups


def _first(groups: list, key: str):
    for group in groups:
        if group.has(key):
            return group.get(key)
    return None


def video_signals(data: bytes) -> dict:
    """VIDEO_COLUMNS for one video file; raises MediaProblem (empty, unsupported, corrupt)."""
    if not data:
        raise MediaProblem("empty", "the video file is empty (0 bytes)")
    parser = _parser(data)
    mime_type = str(getattr(parser, "mime_type", "") or "") if parser else ""
    if parser is None or not mime_type.startswith("video/"):
        found = f" (it looks like {mime_type})" if mime_type else ""
        raise MediaProblem("unsupported", "not a readable video container (MP4, MOV, MKV, WebM, AVI, WMV, FLV)"
                                          + found)
    try:
        metadata = extractMetadata(parser)
        groups = _groups(metadata) if metadata else []
        duration, width, height = (_first(groups, key) for key in ("duration", "width", "height"))
        codecs = _mp4_codecs(parser) if mime_type in ("video/mp4", "video/quicktime") else []
        codec = codecs[0] if codecs else _first(groups, "compression")
    except Exception as exc:  # noqa: BLE001 - a damaged header fails deep inside hachoir
        raise MediaProblem("corrupt", f"the video container header does not parse: {exc}") from None
    if duration is None and not (width and height):
        raise MediaProblem("corrupt", "the video container names no duration and no picture size "
                                      "(a damaged or cut-off header)")
    return {
        "video_container": mime_type,
        "video_duration_s": round(duration.total_seconds(), 4) if duration is not None else None,
        "video_width": int(width) if width else None,
        "video_height": int(height) if height else None,
        "video_codec": str(codec)[:60] if codec else "",
    }
