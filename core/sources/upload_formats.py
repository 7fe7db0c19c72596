"""Turning an uploaded file into records, keeping every good row and naming every bad one.

Each parser returns a `ParsedFile`: records (plain dicts, each with the line or
row it came from), rejected rows with line numbers and reasons, and binary
members (images, audio) to keep in GridFS. Archives are checked before any
member is read: absolute or `..` paths, links, too many entries, and members
whose size or compression ratio betray a zip bomb are refused.
"""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd
from charset_normalizer import from_bytes

TEXT_SUFFIXES = {".txt", ".md", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".csv", ".tsv"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PARQUET_SUFFIXES = {".parquet"}
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".wav", ".mp3", ".ogg", ".flac", ".m4a"}
ARCHIVE_SUFFIXES = {".zip"}
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
                      | PARQUET_SUFFIXES | BINARY_SUFFIXES | ARCHIVE_SUFFIXES)


class UploadError(ValueError):
    """The whole file is refused; the message says why and what to do."""


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 200 * 1024 * 1024
    max_archive_entries: int = 5_000
    max_archive_total_bytes: int = 1024 * 1024 * 1024
    max_member_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0  # text compresses ~10x; 100x+ is a bomb, not a corpus


@dataclass
class BinaryMember:
    name: str
    data: bytes
    mime_type: str


@dataclass
class ParsedFile:
    format: str
    records: list[dict] = field(default_factory=list)  # each has "_line" (1-based line/row) and "_file"
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, reason)
    binaries: list[BinaryMember] = field(default_factory=list)
    encoding: str | None = None

    def extend(self, other: ParsedFile) -> None:
        self.records.extend(other.records)
        self.rejected.extend(other.rejected)
        self.binaries.extend(other.binaries)


def suffix_of(name: str) -> str:
    return PurePosixPath(name.lower()).suffix


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text of unknown encoding: BOM, then UTF-8, then detection, then cp1252 (never fails)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace"), best.encoding
    return data.decode("cp1252", errors="replace"), "cp1252"


def parse_file(name: str, data: bytes, limits: UploadLimits = UploadLimits()) -> ParsedFile:
    if len(data) > limits.max_file_bytes:
        raise UploadError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_file_bytes / 1e6:.0f} MB. "
                          "Split it into smaller files.")
    suffix = suffix_of(name)
    if suffix in ARCHIVE_SUFFIXES:
        return _parse_zip(name, data, limits)
    return _parse_member(name, data)


def _parse_member(name: str, data: bytes) -> ParsedFile:
    suffix = suffix_of(name)
    if suffix in TABLE_SUFFIXES:
        return _parse_csv(name, data, delimiter="\t" if suffix == ".tsv" else None)
    if suffix in JSONL_SUFFIXES:
        return _parse_jsonl(name, data)
    if suffix in JSON_SUFFIXES:
        return _parse_json(name, data)
    if suffix in PARQUET_SUFFIXES:
        return _parse_parquet(name, data)
    if suffix in TEXT_SUFFIXES | HTML_SUFFIXES:
        text, encoding = decode_text(data)
        key = "html" if suffix in HTML_SUFFIXES else "text"
        return ParsedFile(format=key, records=[{key: text, "_line": 1, "_file": name}], encoding=encoding)
    if suffix in BINARY_SUFFIXES:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return ParsedFile(format="binary", binaries=[BinaryMember(name, data, mime)])
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    raise UploadError(f"{name}: files of type '{suffix or 'without extension'}' are not supported ({supported}).")


def _parse_csv(name: str, data: bytes, delimiter: str | None) -> ParsedFile:
    text, encoding = decode_text(data)
    parsed = ParsedFile(format="csv", encoding=encoding)
    if not text.strip():
        raise UploadError(f"{name} is empty.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise UploadError(f"{name}: the header row cannot be read ({exc}).") from None
    header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
    if len(set(header)) != len(header):
        raise UploadError(f"{name}: the header row repeats a column name; make each column name unique.")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.rejected.append((name, reader.line_num, f"unreadable row: {exc}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            parsed.rejected.append((name, reader.line_num, f"has {len(row)} fields, the header has {len(header)}"))
            continue
        record = dict(zip(header, row, strict=True))
        record.update(_line=reader.line_num, _file=name)
        parsed.records.append(record)
    return parsed


def _parse_jsonl(name: str, data: bytes) -> ParsedFile:
    text, encoding = decode_text(data)
    parsed = ParsedFile(format="jsonl", encoding=encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.rejected.append((name, number, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(value, dict):
            parsed.rejected.append((name, number, f"expected a JSON object, found {type(value).__name__}"))
            continue
        parsed.records.append({**value, "_line": number, "_file": name})
    return parsed


def _parse_json(name: str, data: bytes) -> ParsedFile:
    text, encoding = decode_text(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UploadError(f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    if isinstance(value, dict):
        # Common API dumps wrap the rows: {"items": [...]} / {"data": [...]}.
        for key in ("items", "data", "records", "results", "rows"):
            if isinstance(value.get(key), list):
                value = value[key]
                break
        else:
            value = [value]
    if not isinstance(value, list):
        raise UploadError(f"{name}: expected a JSON array of objects.")
    parsed = ParsedFile(format="json", encoding=encoding)
    for number, row in enumerate(value, start=1):
        if isinstance(row, dict):
            parsed.records.append({**row, "_line": number, "_file": name})
        else:
            parsed.rejected.append((name, number, f"element {number} is a {type(row).__name__}, not an object"))
    return parsed


def _parse_parquet(name: str, data: bytes) -> ParsedFile:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for corrupt files
        raise UploadError(f"{name} is not a readable Parquet file ({type(exc).__name__}: {exc}).") from None
    parsed = ParsedFile(format="parquet")
    for number, row in enumerate(frame.to_dict(orient="records"), start=1):
        clean = {k: _plain_value(v) for k, v in row.items()}
        parsed.records.append({**clean, "_line": number, "_file": name})
    return parsed


def _plain_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _parse_zip(name: str, data: bytes, limits: UploadLimits) -> ParsedFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{name} is not a valid ZIP archive.") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    _check_archive(name, members, limits)
    parsed = ParsedFile(format="zip")
    for member in members:
        if suffix_of(member.filename) in ARCHIVE_SUFFIXES:
            parsed.rejected.append((member.filename, 0, "nested archives are not unpacked"))
            continue
        try:
            content = _read_member(archive, member, limits)
            parsed.extend(_parse_member(member.filename, content))
        except UploadError as exc:
            parsed.rejected.append((member.filename, 0, str(exc)))
    return parsed


def _check_archive(name: str, members: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    if len(members) > limits.max_archive_entries:
        raise UploadError(f"{name} has {len(members)} files; the limit is {limits.max_archive_entries}.")
    total = 0
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in member.filename:
            raise UploadError(f"{name} contains an unsafe path '{member.filename}'; archive refused.")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise UploadError(f"{name} contains a symbolic link '{member.filename}'; archive refused.")
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_compression_ratio and member.file_size > 1024 * 1024:
            raise UploadError(
                f"{name}: '{member.filename}' expands {ratio:.0f}x (zip bomb suspected); archive refused.")
        total += member.file_size
    if total > limits.max_archive_total_bytes:
        raise UploadError(f"{name} would expand to {total / 1e9:.1f} GB; the limit is "
                          f"{limits.max_archive_total_bytes / 1e9:.1f} GB.")


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: UploadLimits) -> bytes:
    # Headers can lie about sizes, so stop reading at the limit whatever they claim.
    ratio_budget = max(member.compress_size, 1) * int(limits.max_compression_ratio) + 1024 * 1024
    budget = min(limits.max_member_bytes, ratio_budget)
    chunks, read = [], 0
    with archive.open(member) as handle:
        while chunk := handle.read(1024 * 1024):
            read += len(chunk)
            if read > budget:
                raise UploadError(f"'{member.filename}' expands beyond {budget / 1e6:.0f} MB (zip bomb suspected).")
            chunks.append(chunk)
    return b"".join(chunks)
