"""The bytes a buyer takes home: a zip of one package version, and its check against manifest.json.

The archive holds the version directory as it is (manifest.json included, paths relative to the
version root), so the buyer, or `verify_downloaded_archive`, can re-check every file's sha256
after the download without trusting the transfer.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path, PurePosixPath

from core import audit, tenancy
from core.packaging.manifest import MANIFEST_NAME

_CHUNK = 1 << 20
# Deflating already-compressed formats costs CPU and saves nothing.
_STORED_SUFFIXES = {".parquet", ".gz", ".zip", ".zst", ".bz2", ".xz", ".png", ".jpg", ".jpeg", ".webp",
                    ".mp3"}


class DownloadError(ValueError):
    """A download that cannot be served; the message says what the buyer can do."""


def package_archive(package_path: str | Path) -> bytes:
    """A zip of the package version directory, for st.download_button."""
    root = Path(package_path)
    if not root.is_dir():
        raise DownloadError("The files of this package are not available right now; contact the seller.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(root.rglob("*")):
            # A symlink could lead outside the package; the manifest check reports it as missing instead.
            if path.is_symlink() or not path.is_file():
                continue
            stored = path.suffix.lower() in _STORED_SUFFIXES
            archive.write(path, path.relative_to(root).as_posix(),
                          compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _is_safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and "\\" not in name and not path.is_absolute() and ".." not in path.parts


def _sha256_member(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _member_problems(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str,
                     entry) -> list[str]:
    if not _is_safe_member(name):
        return [f"{name}: path points outside the package"]
    if not isinstance(entry, dict) or "sha256" not in entry or "bytes" not in entry:
        return [f"{name}: manifest entry lacks sha256 or bytes"]
    info = members.get(name)
    if info is None:
        return [f"{name}: missing from the archive"]
    # Size first: a member that claims the wrong size is never decompressed (cheap, and no zip bomb).
    if info.file_size != entry["bytes"]:
        return [f"{name}: size mismatch (manifest {entry['bytes']} bytes, archive {info.file_size} bytes)"]
    try:
        actual = _sha256_member(archive, name)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return [f"{name}: cannot be read from the archive ({error})"]
    if actual != entry["sha256"]:
        return [f"{name}: sha256 mismatch (content changed)"]
    return []


def _manifest_files(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> tuple[dict | None, str]:
    if MANIFEST_NAME not in members:
        return None, f"{MANIFEST_NAME} is missing from the archive"
    try:
        manifest = json.loads(archive.read(MANIFEST_NAME).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError) as error:
        return None, f"{MANIFEST_NAME} cannot be read: {error}"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        return None, f'{MANIFEST_NAME} has no "files" object'
    return files, ""


def verify_downloaded_archive(data: bytes) -> list[str]:
    """Problems found re-checking a downloaded archive against its manifest.json; empty means intact."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["The download is not a complete zip archive; download it again."]
    with archive:
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        files, problem = _manifest_files(archive, members)
        if files is None:
            return [problem]
        problems = []
        for name, entry in sorted(files.items()):
            problems.extend(_member_problems(archive, members, name, entry))
        problems.extend(f"{name}: not listed in {MANIFEST_NAME}"
                        for name in sorted(members) if name != MANIFEST_NAME and name not in files)
        return problems


def own_package_archive(principal, package_id: int) -> tuple[str, bytes]:
    """(file name, zip) of a package version for the supplier who built it (or an admin): no sale or token
    needed to take home one's own data. Anyone else gets PermissionDenied from the tenancy check."""
    package = tenancy.package_for(principal, package_id, action="download this package")
    if package.get("status") != "published" or not package.get("path"):
        raise DownloadError("Only a published version can be downloaded; build it again if its build failed.")
    archive = package_archive(package["path"])
    audit.record("package_download_own", principal.id, f"package:{package['name']}@{package['version']}")
    return f"{package['name']}-{package['version']}.zip", archive
