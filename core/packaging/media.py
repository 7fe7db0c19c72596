"""The media files of a package: the uploaded image, audio and video files of its media items.

Each media item's file is read from the raw store (the upload's GridFS copy named by the item's
`gridfs_id` field) and written to media/<item id><extension>; the row's `media_path` column names it
relative to the package root, and manifest.json, datapackage.json and croissant.json describe it. When the
recipe redacts personal data, images lose their EXIF GPS position and camera/lens serial numbers first,
so a package never tells where a photo was taken or by which device.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

import pandas as pd

from core.packaging.types import PackageBuildError

MEDIA_DIR = "media"
MEDIA_PATH_COLUMN = "media_path"
# Storage details left out of a package: a GridFS id means nothing outside the workbench, and the uploaded
# size changes when EXIF is stripped (manifest.json gives every packaged file's size and SHA-256).
STORAGE_COLUMNS = ("gridfs_id", "bytes")
# Extensions a packaged file may carry: the upload suffixes the workbench accepts for media.
KNOWN_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".wav", ".mp3", ".ogg", ".flac", ".m4a", ".mp4",
                    ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MediaPackagingError(PackageBuildError):
    """A media item cannot go into the package as it is; the message names the item and what to do."""


@dataclass(frozen=True)
class MediaFile:
    """One file to write into the package: where, its mime type, and how to read its bytes (lazily, so a
    package of many videos never holds them all in memory)."""

    path: str  # relative to the package root, POSIX style: media/<item id><extension>
    mime_type: str
    load: Callable[[], bytes]


def _extension(filename: object, mime_type: str) -> str:
    suffix = PurePosixPath(str(filename or "")).suffix.lower()
    if suffix in KNOWN_EXTENSIONS:
        return suffix
    guessed = mimetypes.guess_extension(mime_type or "") or ".bin"
    return guessed if guessed in KNOWN_EXTENSIONS else ".bin"


def media_file_name(item_id: object, filename: object, mime_type: str) -> str:
    """media/<item id><extension>: the id is the workbench's own (never the supplier's file name)."""
    text = str(item_id)
    if not _SAFE_ID.match(text):
        raise MediaPackagingError(f"item id {text!r} cannot name a file in the package")
    return f"{MEDIA_DIR}/{text}{_extension(filename, mime_type)}"


def _loader(item_id: object, fields: dict, mime_type: str, strip_personal: bool,
            read: Callable[[dict], bytes]) -> Callable[[], bytes]:
    def load() -> bytes:
        from core.refine.signals.media_image import MediaProblem, strip_personal_exif

        try:
            data = read(fields)
        except MediaProblem as exc:
            raise MediaPackagingError(f"item {item_id}: its file is not in the raw store ({exc}); "
                                      "refine again, or leave the item out with a filter") from None
        if strip_personal and mime_type.startswith("image/"):
            try:
                data = strip_personal_exif(data)
            except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for files it cannot re-save
                raise MediaPackagingError(
                    f"item {item_id}: its image cannot be re-saved without GPS and serial-number EXIF ({exc}); "
                    "nothing was published") from None
        return data

    return load


def attach_media(rows: pd.DataFrame, strip_personal: bool,
                 read: Callable[[dict], bytes] | None = None) -> tuple[pd.DataFrame, list[MediaFile]]:
    """`rows` with a media_path column (empty for items without a file) and without storage columns, and
    the files to write. Rows without media items come back unchanged with no files."""
    from core.refine.signals.media import MEDIA_DATA_TYPES, raw_store_bytes

    if "data_type" not in rows or "gridfs_id" not in rows:
        return rows, []
    read = read or raw_store_bytes
    is_media = rows["data_type"].isin(MEDIA_DATA_TYPES) & rows["gridfs_id"].notna()
    if not is_media.any():
        return rows, []
    files, paths = [], []
    for position, row in enumerate(rows.itertuples(index=False)):
        if not is_media.iloc[position]:
            paths.append(None)
            continue
        mime_type = str(getattr(row, "mime_type", "") or "application/octet-stream")
        path = media_file_name(row.id, getattr(row, "filename", ""), mime_type)
        fields = {"gridfs_id": str(row.gridfs_id)}
        files.append(MediaFile(path, mime_type, _loader(row.id, fields, mime_type, strip_personal, read)))
        paths.append(path)
    rows = rows.drop(columns=[c for c in STORAGE_COLUMNS if c in rows]).copy()
    rows[MEDIA_PATH_COLUMN] = pd.Series(paths, index=rows.index, dtype=object)
    return rows, files
