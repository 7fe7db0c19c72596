"""The checksum manifest of a package version and its verification after a copy or download.

manifest.json is exactly ``{"files": {relative_path: {"sha256": hex, "bytes": int}}}`` and
lists every file of the version directory except itself, with POSIX-style relative paths.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, object]:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def _package_files(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() or path.is_symlink()
        if path.relative_to(root).as_posix() != MANIFEST_NAME
    )


def build_manifest(root: Path) -> dict[str, dict[str, dict[str, object]]]:
    """Hash every file under ``root`` except the manifest itself."""
    return {"files": {relative: file_entry(root / relative) for relative in _package_files(root)}}


def write_manifest(root: Path) -> dict[str, dict[str, object]]:
    """Write manifest.json into ``root`` and return its "files" mapping."""
    manifest = build_manifest(root)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (root / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return manifest["files"]


def _is_safe_relative(relative: str) -> bool:
    """A manifest path must stay inside the package: no absolute paths, no '..', no backslashes."""
    path = PurePosixPath(relative)
    return bool(relative) and "\\" not in relative and not path.is_absolute() and ".." not in path.parts


def _load_manifest_files(root: Path) -> tuple[dict | None, list[str]]:
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        return None, [f"{MANIFEST_NAME} is missing"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [f"{MANIFEST_NAME} cannot be read: {error}"]
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        return None, [f'{MANIFEST_NAME} has no "files" object']
    return files, []


def _entry_problems(root: Path, relative: str, entry: object) -> list[str]:
    if not _is_safe_relative(relative):
        return [f"{relative}: path points outside the package"]
    if not isinstance(entry, dict) or "sha256" not in entry or "bytes" not in entry:
        return [f"{relative}: manifest entry lacks sha256 or bytes"]
    path = root / relative
    if path.is_symlink() or not path.is_file():
        return [f"{relative}: missing"]
    size = path.stat().st_size
    if size != entry["bytes"]:
        return [f"{relative}: size mismatch (manifest {entry['bytes']} bytes, file {size} bytes)"]
    if sha256_file(path) != entry["sha256"]:
        return [f"{relative}: sha256 mismatch (content changed)"]
    return []


def verify_package(path: Path) -> list[str]:
    """Problems found re-checking a package directory against its manifest; empty means intact."""
    root = Path(path)
    if not root.is_dir():
        return [f"{root} is not a directory"]
    files, problems = _load_manifest_files(root)
    if files is None:
        return problems
    for relative, entry in sorted(files.items()):
        problems.extend(_entry_problems(root, relative, entry))
    problems.extend(f"{relative}: not listed in {MANIFEST_NAME}"
                    for relative in _package_files(root) if relative not in files)
    return problems
