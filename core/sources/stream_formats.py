"""Reading a file of any size as a stream of records: one line, element or row group at a time.

The in-memory parsers of `upload_formats` hold a whole file; these hold one record (plus a bounded
read-ahead) whatever the file's size, and name each record's line the same way: JSONL and CSV by
physical line, a JSON array by element number, Parquet by row number. `.gz` files are read
transparently. Each yielded `StreamItem` carries the byte offset just after it when the file can be
re-entered there (plain JSONL/CSV in a byte-oriented encoding), so a crashed ingest resumes by seeking;
other files resume by skipping the records already committed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ijson
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from core.sources.upload_formats import (
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    TABLE_SUFFIXES,
    TooDeeplyNested,
    UploadError,
    _bomless_utf16,
    _depth_exceeds,
    _json_loads,
    _plain_value,
    _swallowed_rows,
    suffix_of,
)

STREAMED_SUFFIXES = JSONL_SUFFIXES | TABLE_SUFFIXES | JSON_SUFFIXES | PARQUET_SUFFIXES
GZIP_SUFFIX = ".gz"
SNIFF_BYTES = 64 * 1024
JSON_WRAPPER_KEYS = ("items", "data", "records", "results", "rows")
PARQUET_BATCH_ROWS = 2_000
# csv's own guard against a quote that is never closed: a field may not grow past this many characters,
# so a runaway quote costs at most this much memory before it is reported.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
UTF8_REPAIRED = "invalid UTF-8 byte(s) shown as U+FFFD (\ufffd); the rest of the row was kept"


@dataclass
class StreamItem:
    line: int  # 1-based line (JSONL, CSV), element (JSON array) or row (Parquet)
    record: dict | None = None
    problem: str | None = None  # the record is rejected for this reason
    warning: str | None = None  # the record is kept; this was repaired
    offset: int | None = None  # byte offset just after this record, when the file can be re-entered there


def logical_name(name: str) -> str:
    """The name whose suffix says the format: 'rows.jsonl.gz' -> 'rows.jsonl'."""
    return name[: -len(GZIP_SUFFIX)] if name.lower().endswith(GZIP_SUFFIX) else name


def is_streamable(name: str) -> bool:
    return suffix_of(logical_name(name)) in STREAMED_SUFFIXES


class RecordStream:
    """Iterate the records of `path` (shown to users as `name`), resuming after `resume_line`.

    `resume_offset` is the byte offset recorded with `resume_line`; when given (and the format allows)
    reading seeks there instead of re-reading the lines before it.
    """

    def __init__(self, path: Path, name: str, *, resume_line: int = 0, resume_offset: int | None = None,
                 max_whole_object_bytes: int = 0):
        self.path, self.name = Path(path), name
        self.format_suffix = suffix_of(logical_name(name))
        if self.format_suffix not in STREAMED_SUFFIXES:
            raise UploadError(f"{name}: this format is not read as a stream.")
        self.compressed = name.lower().endswith(GZIP_SUFFIX)
        self.resume_line, self.resume_offset = resume_line, resume_offset
        # A JSON file holding one object that wraps no record list is one record, read whole up to this size.
        self.max_whole_object_bytes = max_whole_object_bytes
        self.bytes_total = self.path.stat().st_size
        self.encoding: str | None = None
        self.head_text = ""
        self._disk = open(self.path, "rb", buffering=1024 * 1024)  # noqa: SIM115 - closed by close(), the stream outlives this call
        self._body = gzip.GzipFile(fileobj=self._disk, mode="rb") if self.compressed else self._disk

    # -- bookkeeping ------------------------------------------------------------------------------
    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for .gz), for progress."""
        try:
            return min(self._disk.tell(), self.bytes_total)
        except ValueError:  # closed
            return self.bytes_total

    @property
    def seekable_lines(self) -> bool:
        return not self.compressed and self.format_suffix in JSONL_SUFFIXES | TABLE_SUFFIXES

    def close(self) -> None:
        self._body.close()
        self._disk.close()

    def __enter__(self) -> RecordStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[StreamItem]:
        if self.format_suffix in PARQUET_SUFFIXES:
            return self._parquet_items()
        if self.format_suffix in JSON_SUFFIXES:
            return self._json_items()
        if self.format_suffix in TABLE_SUFFIXES:
            return self._csv_items()
        return self._jsonl_items()

    # -- text lines -------------------------------------------------------------------------------
    def _sniff_encoding(self) -> str:
        head = self._body.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        if not head.strip():
            raise UploadError(f"{self.name} is empty (or only whitespace); there is nothing to ingest.")
        if head.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        elif utf16 := _bomless_utf16(head):
            encoding = utf16
        else:
            repaired = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
            non_ascii = sum(1 for ch in repaired if ord(ch) > 127)
            # Mostly UTF-8 with a stray bad byte stays UTF-8 (as upload_formats.decode_text_reporting decides).
            if repaired.count("\ufffd") <= max(2, non_ascii // 20):
                encoding = "utf-8"
            else:
                best = from_bytes(head).best()
                encoding = best.encoding if best else "utf-8"
        self.head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
        return encoding

    def _physical_lines(self, line_end: str, start_line: int = 0,
                        start_offset: int | None = None) -> Iterator[tuple[int, str, str | None, int | None]]:
        """(line number, text with its terminator, warning, offset after it) for each line after `start_line`.

        Byte-oriented encodings are split on b"\\n" and decoded line by line, so a bad byte spoils one
        line only; UTF-16 goes through a text decoder (its newline is two bytes). With `start_offset`
        (the offset recorded after `start_line`) a plain file is entered there directly."""
        if self.encoding is None:
            self.encoding = self._sniff_encoding()
        if self.encoding.startswith("utf-16"):
            text = io.TextIOWrapper(self._body, encoding=self.encoding, errors="replace", newline=line_end)
            for number, line in enumerate(text, start=1):
                if number > start_line:
                    yield number, line, None, None
            return
        number = offset = 0
        if start_offset and self.seekable_lines:
            self._disk.seek(start_offset)
            number, offset = start_line, start_offset
        codec = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        for raw in self._body:
            number += 1
            offset += len(raw)
            if number <= start_line:
                continue
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line, warning = raw.decode(codec), None
            except UnicodeDecodeError:
                line = raw.decode(codec, errors="replace")
                warning = UTF8_REPAIRED if codec == "utf-8" else f"bytes invalid in {codec} shown as U+FFFD"
            yield number, line, warning, (offset if self.seekable_lines else None)

    def _jsonl_items(self) -> Iterator[StreamItem]:
        # Records end at "\n" only: U+2028 and friends may sit raw inside valid JSON strings.
        for number, line, warning, offset in self._physical_lines("\n", self.resume_line, self.resume_offset):
            text = line.rstrip("\n").removesuffix("\r")
            if not text.strip():
                continue
            try:
                value = _json_loads(text)
            except json.JSONDecodeError as exc:
                yield StreamItem(number, problem=f"invalid JSON: {exc.msg} at column {exc.colno}", offset=offset)
                continue
            except TooDeeplyNested as exc:
                yield StreamItem(number, problem=str(exc), offset=offset)
                continue
            if not isinstance(value, dict):
                yield StreamItem(number, problem=f"expected a JSON object, found {type(value).__name__}",
                                 offset=offset)
                continue
            yield StreamItem(number, record=value, warning=warning, offset=offset)

    # -- CSV --------------------------------------------------------------------------------------
    def _csv_items(self) -> Iterator[StreamItem]:
        """Rows of a CSV/TSV with the same rules as upload_formats._parse_csv, one record in memory.

        The header is always read from the top; a resumed read then seeks (or skips) past the rows
        already committed."""
        lines = self._physical_lines("")
        header_entry = next((entry for entry in lines if entry[1].strip()), None)
        if header_entry is None:
            raise UploadError(f"{self.name} is empty.")
        if self.format_suffix == ".tsv":
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(self.head_text[:20_000], delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        try:
            header = next(csv.reader([header_entry[1]], delimiter=delimiter))
        except (csv.Error, StopIteration) as exc:
            raise UploadError(f"{self.name}: the header row cannot be read ({exc or 'no header'}).") from None
        header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
        if len(set(header)) != len(header):
            raise UploadError(f"{self.name}: the header row repeats a column name; make each column name unique.")
        if self.resume_line > header_entry[0]:
            if self.resume_offset and self.seekable_lines:
                lines.close()
                lines = self._physical_lines("", self.resume_line, self.resume_offset)
            else:
                lines = (entry for entry in lines if entry[0] > self.resume_line)
        yield from self._csv_rows(lines, header, delimiter)

    def _csv_rows(self, lines, header: list[str], delimiter: str) -> Iterator[StreamItem]:
        """A quote that is never closed would swallow the rows after it: the row's first line is rejected
        and the lines it swallowed are read again, so the good rows after it are kept."""
        width = len(header)
        pending: deque[tuple[int, str, str | None, int | None]] = deque()
        current: list[tuple[int, str, str | None, int | None]] = []

        def feed() -> Iterator[str]:
            while True:
                if pending:
                    entry = pending.popleft()
                else:
                    entry = next(lines, None)
                    if entry is None:
                        return
                for piece in _csv_pieces(entry):
                    current.append(piece)
                    yield piece[1]

        previous_limit = csv.field_size_limit(CSV_FIELD_LIMIT)
        try:
            while True:
                current.clear()
                # A fresh feed each time: a reader that hit the end inside a quote has finished its feed.
                reader = csv.reader(feed(), delimiter=delimiter)
                try:
                    for row in reader:
                        consumed = list(current)
                        current.clear()
                        first, last = consumed[0], consumed[-1]
                        if len(consumed) > 1 and _swallowed_rows([c[1] for c in consumed], delimiter, width,
                                                                 len(row)):
                            yield StreamItem(first[0], problem=(
                                f"unbalanced quote: this row runs on to line {last[0]}, merging lines "
                                f"{first[0]}-{last[0]}; close the quote"), offset=first[3])
                            pending.extendleft(reversed(consumed[1:]))
                            break  # a fresh reader, so no state of the bad row lingers
                        if not any(cell.strip() for cell in row):
                            continue
                        warning = next((c[2] for c in consumed if c[2]), None)
                        if len(row) != width:
                            yield StreamItem(last[0], problem=f"has {len(row)} fields, the header has {width}",
                                             offset=last[3])
                            continue
                        yield StreamItem(last[0], record=dict(zip(header, row, strict=True)), warning=warning,
                                         offset=last[3])
                    else:
                        return
                except csv.Error as exc:
                    consumed = list(current)
                    current.clear()
                    if len(consumed) > 1 and consumed[0][1].count('"') % 2:
                        yield StreamItem(consumed[0][0], problem=(
                            f"unbalanced quote: this row runs on to line {consumed[-1][0]} and beyond ({exc}); "
                            "close the quote"), offset=consumed[0][3])
                        pending.extendleft(reversed(consumed[1:]))
                    elif consumed:
                        yield StreamItem(consumed[-1][0], problem=f"unreadable row: {exc}", offset=consumed[-1][3])
        finally:
            csv.field_size_limit(previous_limit)

    # -- JSON arrays ------------------------------------------------------------------------------
    def _json_items(self) -> Iterator[StreamItem]:
        head = self._body.peek(SNIFF_BYTES)[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
        self.encoding = "utf-8"
        if not head:
            raise UploadError(f"{self.name} is empty; there is nothing to ingest.")
        if head.startswith(b"["):
            prefix = "item"
        elif head.startswith(b"{"):
            prefix = self._wrapper_prefix()
        else:
            raise UploadError(f"{self.name}: expected a JSON array of objects.")
        number = 0
        try:
            for number, value in enumerate(ijson.items(self._body, prefix, use_float=True), start=1):
                if number <= self.resume_line:
                    continue
                if not isinstance(value, dict):
                    yield StreamItem(number, problem=f"element {number} is a {type(value).__name__}, not an object")
                elif _depth_exceeds(value, 100):
                    yield StreamItem(number, problem="nested too deeply (more than 100 levels)")
                else:
                    yield StreamItem(number, record=value)
        except ijson.JSONError as exc:
            yield StreamItem(number + 1, problem=f"invalid JSON after element {number}: {exc}; reading stopped here")

    def _wrapper_prefix(self) -> str:
        """'items.item' for {"items": [...]} (or data, records, results, rows), read without loading the file."""
        try:
            for prefix, event, _value in ijson.parse(self._body):
                if event == "start_array" and prefix in JSON_WRAPPER_KEYS and "." not in prefix:
                    self._rewind()
                    return f"{prefix}.item"
                elif prefix == "" and event == "end_map":
                    break
        except ijson.JSONError as exc:
            raise UploadError(f"{self.name}: invalid JSON ({exc}).") from None
        if self.bytes_total <= self.max_whole_object_bytes:
            self._rewind()
            return ""  # the top-level object itself, as the browser path reads it
        raise UploadError(f"{self.name}: a JSON object over {self.max_whole_object_bytes / 1e6:.0f} MB is streamed "
                          f"only when it wraps the records in one of {', '.join(JSON_WRAPPER_KEYS)}; write a JSON "
                          "array or JSONL instead.")

    def _rewind(self) -> None:
        self._disk.seek(0)
        if self.compressed:
            self._body = gzip.GzipFile(fileobj=self._disk, mode="rb")
        else:
            self._body = self._disk

    # -- Parquet ----------------------------------------------------------------------------------
    def _parquet_items(self) -> Iterator[StreamItem]:
        if self.compressed:
            raise UploadError(f"{self.name}: Parquet is compressed inside; do not gzip it.")
        try:
            parquet = pq.ParquetFile(self._disk)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for corrupt files
            raise UploadError(f"{self.name} is not a readable Parquet file ({type(exc).__name__}: {exc}).") from None
        # Whole row groups before the resume point are skipped without being read.
        groups, first_row = [], 0
        for index in range(parquet.num_row_groups):
            rows = parquet.metadata.row_group(index).num_rows
            if first_row + rows > self.resume_line:
                groups.append(index)
            else:
                first_row += rows
        number = first_row
        if not groups:
            return
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=groups):
            for row in batch.to_pylist():
                number += 1
                if number <= self.resume_line:
                    continue
                yield StreamItem(number, record={k: _plain_value(v) for k, v in row.items()})


def _sniff_delimiter(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_pieces(entry: tuple[int, str, str | None, int | None]):
    """A physical line as the csv module sees it: a bare "\\r" also ends a line (old Mac files)."""
    number, text, warning, offset = entry
    if "\r" not in text.rstrip("\r\n"):
        return [entry]
    pieces = list(io.StringIO(text, newline=""))
    return [(number, piece, warning, offset if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]
