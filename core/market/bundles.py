"""A package version's zip with files added or replaced (a buyer's licence, a supplier's quality report).

The zip keeps the version directory's layout, and its manifest.json is rewritten to cover the added
and replaced files too, so `verify_downloaded_archive` still checks every byte. Untouched files keep
the sha256 the package's own manifest recorded (large data files are not hashed again).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from core.market.downloads import _STORED_SUFFIXES, DownloadError
from core.packaging.manifest import MANIFEST_NAME, file_entry


def _check_extra_name(name: str) -> None:
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute() or ".." in path.parts or name == MANIFEST_NAME:
        raise ValueError(f"'{name}' cannot be added to a package archive.")


def _recorded_entries(root: Path) -> dict:
    try:
        files = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        files = None
    return files if isinstance(files, dict) else {}


def write_bundle(package_path: str | Path, target: str | Path | BinaryIO, extras: dict[str, bytes]) -> dict:
    """Zip the version directory plus `extras` ({relative path: bytes}, replacing same-named files) into
    `target` (a path or a binary file object); returns the manifest "files" written into the zip."""
    root = Path(package_path)
    if not root.is_dir():
        raise DownloadError("The files of this package are not available right now; contact the seller.")
    for name in extras:
        _check_extra_name(name)
    recorded = _recorded_entries(root)
    entries: dict[str, dict] = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            # A symlink could lead outside the package; replaced files are written from `extras` below.
            if path.is_symlink() or not path.is_file() or relative == MANIFEST_NAME or relative in extras:
                continue
            stored = path.suffix.lower() in _STORED_SUFFIXES
            archive.write(path, relative, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            known = recorded.get(relative)
            size_matches = isinstance(known, dict) and known.get("bytes") == path.stat().st_size
            entries[relative] = known if size_matches and "sha256" in known else file_entry(path)
        for name, content in sorted(extras.items()):
            archive.writestr(name, content)
            entries[name] = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
        manifest = {"files": dict(sorted(entries.items()))}
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest["files"]


def bundle_bytes(package_path: str | Path, extras: dict[str, bytes]) -> bytes:
    """write_bundle into memory, for st.download_button."""
    buffer = io.BytesIO()
    write_bundle(package_path, buffer, extras)
    return buffer.getvalue()
