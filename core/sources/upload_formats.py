"""Turning an uploaded file into records, keeping every good row and naming every bad one.

Each parser returns a `ParsedFile`: records (plain dicts, each with the line or
row it came from), rejected rows with line numbers and reasons, and binary
members (images, audio, video) to keep in GridFS. A video is accepted only when its container header
parses (duration, picture size and codec are read without decoding a frame) and refused otherwise.
Archives are checked before any member is read: absolute or `..` paths, links, too many entries, and members
whose size or compression ratio betray a zip bomb are refused.
"""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import stat
import zipfile
import zlib
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
# Stated here rather than guessed: the system mime table lacks some of them (.mkv, .webm on older systems).
VIDEO_MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
                    ".webm": "video/webm", ".avi": "video/x-msvideo", ".wmv": "video/x-ms-wmv",
                    ".flv": "video/x-flv", ".mpg": "video/mpeg", ".mpeg": "video/mpeg"}
VIDEO_SUFFIXES = set(VIDEO_MIME_TYPES)
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
                      | PARQUET_SUFFIXES | BINARY_SUFFIXES | VIDEO_SUFFIXES | ARCHIVE_SUFFIXES)


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
    container: dict = field(default_factory=dict)  # a video's container metadata (duration, size, codec)


@dataclass
class ParsedFile:
    format: str
    records: list[dict] = field(default_factory=list)  # each has "_line" (1-based line/row) and "_file"
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, reason)
    binaries: list[BinaryMember] = field(default_factory=list)
    encoding: str | None = None
    warnings: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, what was repaired): row kept

    def extend(self, other: ParsedFile) -> None:
        self.records.extend(other.records)
        self.rejected.extend(other.rejected)
        self.binaries.extend(other.binaries)
        self.warnings.extend(other.warnings)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    bad_lines: tuple[int, ...] = ()  # 1-based lines whose invalid bytes became U+FFFD

    def warnings(self, name: str) -> list[tuple[str, int, str]]:
        return [(name, line, "invalid UTF-8 byte(s) shown as U+FFFD (\ufffd); the rest of the row was kept")
                for line in self.bad_lines]


def suffix_of(name: str) -> str:
    return PurePosixPath(name.lower()).suffix


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text of unknown encoding (never fails); `decode_text_reporting` also names repaired lines."""
    decoded = decode_text_reporting(data)
    return decoded.text, decoded.encoding


def decode_text_reporting(data: bytes) -> DecodedText:
    """BOM, then BOM-less UTF-16, then UTF-8 (a few bad bytes replaced and their lines named), then detection.

    A stray invalid byte in a UTF-8 file must not send the whole file to charset detection: that turns
    every correct "café" into mojibake to save one broken character. Detection is only for files that
    are not mostly UTF-8 (legacy encodings, where nearly every non-ASCII line fails to decode)."""
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        return DecodedText(body.decode("utf-8", errors="replace"), "utf-8-sig", _invalid_utf8_lines(body))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return DecodedText(data.decode("utf-16", errors="replace"), "utf-16")
    utf16 = _bomless_utf16(data)
    if utf16:
        return DecodedText(data.decode(utf16, errors="replace"), utf16)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    repaired = data.decode("utf-8", errors="replace")
    invalid = repaired.count("\ufffd")
    valid_non_ascii = sum(1 for char in repaired if char > "\x7f") - invalid
    # Legacy 8-bit text almost never forms valid multi-byte UTF-8 sequences, so when most non-ASCII
    # characters decode, the file is UTF-8 with a few damaged bytes.
    if valid_non_ascii > invalid:
        return DecodedText(repaired, "utf-8", _invalid_utf8_lines(data))
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return DecodedText(data.decode(best.encoding, errors="replace"), best.encoding)
    return DecodedText(data.decode("cp1252", errors="replace"), "cp1252")


def _invalid_utf8_lines(data: bytes) -> tuple[int, ...]:
    """The 1-based lines (split on b"\\n", as the parsers count them) that are not valid UTF-8."""
    bad = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(number)
    return tuple(bad)


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like mostly-ASCII UTF-16 without a BOM, else None.

    Text in UTF-16 has a NUL in every other byte for ASCII characters; any 8-bit text encoding has
    (almost) none, so NULs on one parity and not the other are a reliable sign."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        sample = sample[:len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    pairs = len(sample) // 2
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls >= 0.4 * pairs and even_nuls <= 0.05 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.4 * pairs and odd_nuls <= 0.05 * pairs:
        return "utf-16-be"
    return None


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
        decoded = decode_text_reporting(data)
        if not decoded.text.strip():
            raise UploadError(f"{name} is empty (or only whitespace); there is nothing to ingest.")
        key = "html" if suffix in HTML_SUFFIXES else "text"
        return ParsedFile(format=key, records=[{key: decoded.text, "_line": 1, "_file": name}],
                          encoding=decoded.encoding, warnings=decoded.warnings(name))
    if suffix in BINARY_SUFFIXES:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return ParsedFile(format="binary", binaries=[BinaryMember(name, data, mime)])
    if suffix in VIDEO_SUFFIXES:
        return ParsedFile(format="binary", binaries=[_video_member(name, data, suffix)])
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    raise UploadError(f"{name}: files of type '{suffix or 'without extension'}' are not supported ({supported}).")


def _video_member(name: str, data: bytes, suffix: str) -> BinaryMember:
    """The video with its container metadata; UploadError when the container header does not parse."""
    from core.refine.signals.media_image import MediaProblem  # noqa: PLC0415 - only video uploads load hachoir
    from core.refine.signals.media_video import video_signals  # noqa: PLC0415

    try:
        container = video_signals(data)
    except MediaProblem as exc:
        raise UploadError(f"{name}: {exc}. Videos are accepted when their container header is intact "
                          "(MP4, MOV, MKV, WebM, AVI, WMV, FLV); re-export the file and upload it again.") from None
    return BinaryMember(name, data, VIDEO_MIME_TYPES[suffix], container)


def _parse_csv(name: str, data: bytes, delimiter: str | None) -> ParsedFile:
    decoded = decode_text_reporting(data)
    text = decoded.text
    parsed = ParsedFile(format="csv", encoding=decoded.encoding, warnings=decoded.warnings(name))
    if not text.strip():
        raise UploadError(f"{name} is empty.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    # The physical lines exactly as the csv module sees them (it splits on \n, \r and \r\n only).
    lines = list(io.StringIO(text, newline=""))
    reader = csv.reader(iter(lines), delimiter=delimiter)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise UploadError(f"{name}: the header row cannot be read ({exc or 'no header'}).") from None
    header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
    if len(set(header)) != len(header):
        raise UploadError(f"{name}: the header row repeats a column name; make each column name unique.")
    for last, row in _csv_rows(lines, reader.line_num, delimiter, len(header), parsed, name):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            parsed.rejected.append((name, last, f"has {len(row)} fields, the header has {len(header)}"))
            continue
        record = dict(zip(header, row, strict=True))
        record.update(_line=last, _file=name)
        parsed.records.append(record)
    return parsed


def _csv_rows(lines: list[str], start: int, delimiter: str, width: int, parsed: ParsedFile, name: str):
    """Yield (last line, row) for the rows after line `start`, catching unbalanced quotes.

    A quote that is never closed makes the csv module read on across line ends, silently merging the
    rows that follow into one field. A record that spans lines is therefore checked: if its first line
    has an odd number of quotes and either its field count is wrong or a line it swallowed is a
    complete row by itself, the first line is rejected (naming the lines it would have swallowed) and
    reading starts again on the next line, so the good rows after it are kept."""
    position = start  # lines consumed so far (0-based index of the next unread line)
    while position < len(lines):
        reader = csv.reader((lines[i] for i in range(position, len(lines))), delimiter=delimiter)
        base = position
        restarted = False
        while True:
            first = position + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                position = base + reader.line_num
                parsed.rejected.append((name, position, f"unreadable row: {exc}"))
                continue
            position = base + reader.line_num
            if position > first and _swallowed_rows(lines[first - 1:position], delimiter, width, len(row)):
                parsed.rejected.append((name, first, f"unbalanced quote: this row runs on to line {position}, "
                                                     f"merging lines {first}-{position}; close the quote"))
                position = first  # re-read from the line after the bad one
                restarted = True
                break
            yield position, row
        if not restarted:
            return


def _swallowed_rows(physical: list[str], delimiter: str, width: int, fields: int) -> bool:
    if physical[0].count('"') % 2 == 0:
        return False
    if fields != width:
        return True
    for line in physical[1:]:
        if line.count('"') % 2 == 0:
            alone = next(csv.reader([line], delimiter=delimiter), [])
            if len(alone) == width:
                return True
    return False


def _parse_jsonl(name: str, data: bytes) -> ParsedFile:
    decoded = decode_text_reporting(data)
    parsed = ParsedFile(format="jsonl", encoding=decoded.encoding, warnings=decoded.warnings(name))
    # Records end at "\n" only: str.splitlines() also breaks at U+2028, U+0085 and other characters
    # that valid JSON strings may hold raw (our own exports write them so).
    for number, line in enumerate(decoded.text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            value = _json_loads(line)
        except json.JSONDecodeError as exc:
            parsed.rejected.append((name, number, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        except TooDeeplyNested as exc:
            parsed.rejected.append((name, number, str(exc)))
            continue
        if not isinstance(value, dict):
            parsed.rejected.append((name, number, f"expected a JSON object, found {type(value).__name__}"))
            continue
        parsed.records.append({**value, "_line": number, "_file": name})
    return parsed


class TooDeeplyNested(ValueError):
    """A JSON value nested deeper than MAX_JSON_DEPTH levels."""


MAX_JSON_DEPTH = 100  # real records nest a few levels; the raw store and exports recurse over them


def _json_loads(text: str):
    """json.loads that reports excessive nesting as TooDeeplyNested instead of RecursionError (or later
    trouble in code that walks the value recursively)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeeplyNested(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise TooDeeplyNested(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    return value


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(current, dict):
            stack.extend((child, depth + 1) for child in current.values() if isinstance(child, (dict, list)))
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current if isinstance(child, (dict, list)))
    return False


def _parse_json(name: str, data: bytes) -> ParsedFile:
    decoded = decode_text_reporting(data)
    text, encoding = decoded.text, decoded.encoding
    if not text.strip():
        raise UploadError(f"{name} is empty; there is nothing to ingest.")
    try:
        value = _json_loads(text)
    except json.JSONDecodeError as exc:
        raise UploadError(f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    except TooDeeplyNested as exc:
        raise UploadError(f"{name}: the JSON is {exc}; flatten it or split it into records.") from None
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
    parsed = ParsedFile(format="json", encoding=encoding, warnings=decoded.warnings(name))
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
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            # A bad CRC, a truncated stream or sizes that lie spoil this member only; the others are kept.
            parsed.rejected.append((member.filename, 0, f"damaged in the archive ({exc}); re-create the ZIP"))
        except (NotImplementedError, RuntimeError) as exc:  # unsupported compression, encrypted member
            parsed.rejected.append((member.filename, 0, f"cannot be read ({exc})"))
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
