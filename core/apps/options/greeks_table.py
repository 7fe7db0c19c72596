"""Implied volatility and greeks for a table of quotes: the engine behind `python -m core options greeks`.

Input columns: id, type (call|put), spot, strike, expiry_years, rate, dividend_yield, price.
Output columns: id, implied_vol, delta, gamma, vega, theta, rho, reason (trader units, see bsm).
CSV goes through pyarrow (multithreaded parse, no pandas on the fast path); a file with a malformed
number falls back to a row-by-row tolerant read, so one bad cell costs that row, not the file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.apps.options import bsm, iv

NUMERIC_COLUMNS = ("spot", "strike", "expiry_years", "rate", "dividend_yield", "price")
INPUT_COLUMNS = ("id", "type", *NUMERIC_COLUMNS)
GREEK_COLUMNS = ("delta", "gamma", "vega", "theta", "rho")
OUTPUT_COLUMNS = ("id", "implied_vol", *GREEK_COLUMNS, "reason")
PARALLEL_MIN_ROWS = 100_000


class OptionsInputError(ValueError):
    """The input file cannot be read as an options table; the message says what to fix."""


def read_quotes(path: Path) -> pa.Table:
    """The input columns, numbers as float64 (null where a cell is empty or not a number)."""
    if not Path(path).is_file():
        raise OptionsInputError(f"No such file: {path}")
    header = _header(path)
    missing = [c for c in INPUT_COLUMNS if c not in header]
    if missing:
        raise OptionsInputError(f"{path} lacks column(s) {', '.join(missing)}; expected {', '.join(INPUT_COLUMNS)}.")
    types = {"id": pa.string(), "type": pa.string(), **{c: pa.float64() for c in NUMERIC_COLUMNS}}
    convert = pacsv.ConvertOptions(column_types=types, include_columns=list(INPUT_COLUMNS),
                                   strings_can_be_null=False)
    try:
        return pacsv.read_csv(path, convert_options=convert)
    except pa.ArrowInvalid:
        # Some cell is not a number: read everything as text, then convert cell by cell.
        as_text = pacsv.ConvertOptions(column_types={c: pa.string() for c in INPUT_COLUMNS},
                                       include_columns=list(INPUT_COLUMNS))
        try:
            table = pacsv.read_csv(path, convert_options=as_text)
        except pa.ArrowInvalid as exc:
            raise OptionsInputError(f"{path} is not a readable CSV file: {exc}") from None
        return pa.Table.from_arrays([table["id"], table["type"], *(_to_float(table[c]) for c in NUMERIC_COLUMNS)],
                                    names=list(INPUT_COLUMNS))


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
    return [name.strip().strip('"') for name in first.rstrip("\r\n").split(",")]


def _to_float(column: pa.ChunkedArray) -> pa.Array:
    import pandas as pd  # only on this slow path: pandas costs ~0.4 s of start-up

    values = pd.to_numeric(column.to_pandas(), errors="coerce").to_numpy(dtype=float)
    return pa.array(values, mask=np.isnan(values))


def analyze_arrays(is_call, spot, strike, t, r, q, price, *, threads: int | None = None,
                   max_vol_uncertainty: float = iv.MAX_VOL_UNCERTAINTY) -> dict[str, np.ndarray]:
    """implied_vol, greeks and reason codes for whole arrays (NaN where unsolved)."""
    n = len(spot)
    threads = threads or min(os.cpu_count() or 1, 4)
    columns = (is_call, spot, strike, t, r, q, price)
    if threads <= 1 or n < PARALLEL_MIN_ROWS:
        return _analyze_chunk(max_vol_uncertainty, *columns)
    # numpy and scipy ufuncs release the GIL: threads use both cores without copying to processes.
    edges = np.linspace(0, n, threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda i: _analyze_chunk(max_vol_uncertainty,
                                                       *(c[edges[i]:edges[i + 1]] for c in columns)), range(threads)))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _analyze_chunk(max_vol_uncertainty, is_call, spot, strike, t, r, q, price) -> dict[str, np.ndarray]:
    vol, reason = iv.implied_vol(is_call, spot, strike, t, r, q, price, threads=1,
                                 max_vol_uncertainty=max_vol_uncertainty)
    out = {"implied_vol": vol, "reason_code": reason}
    solved = np.flatnonzero(reason == iv.OK)
    for name in GREEK_COLUMNS:
        out[name] = np.full(len(vol), np.nan)
    if solved.size:
        with np.errstate(all="ignore"):
            values = bsm.greeks(is_call[solved], spot[solved], strike[solved], t[solved], r[solved], q[solved],
                                vol[solved])
        for name in GREEK_COLUMNS:
            out[name][solved] = values[name]
    return out


def option_type_flags(types: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(is_call, valid) from the type column: call/put, any case, surrounding spaces ignored."""
    normalized = pc.utf8_lower(pc.utf8_trim_whitespace(types))
    is_call = pc.fill_null(pc.equal(normalized, "call"), False).to_numpy(zero_copy_only=False)
    is_put = pc.fill_null(pc.equal(normalized, "put"), False).to_numpy(zero_copy_only=False)
    return is_call, is_call | is_put


def greeks_table(quotes: pa.Table, *, threads: int | None = None,
                 max_vol_uncertainty: float = iv.MAX_VOL_UNCERTAINTY) -> pa.Table:
    """The output table for an input table (see module doc)."""
    is_call, valid_type = option_type_flags(quotes["type"])
    numbers = [pc.fill_null(quotes[c], np.nan).to_numpy() if quotes[c].null_count else quotes[c].to_numpy()
               for c in NUMERIC_COLUMNS]
    numbers = [np.ascontiguousarray(a, dtype=float) for a in numbers]
    result = analyze_arrays(is_call, *numbers, threads=threads, max_vol_uncertainty=max_vol_uncertainty)
    codes = result["reason_code"]
    codes[~valid_type] = iv.BAD_TYPE
    unsolved = codes != iv.OK
    columns = {"id": quotes["id"]}
    for name in ("implied_vol", *GREEK_COLUMNS):
        values = result[name]
        values[unsolved] = np.nan
        columns[name] = pa.array(values, mask=np.isnan(values) if unsolved.any() or np.isnan(values).any() else None)
    columns["reason"] = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(iv.reason_text(np.arange(len(iv.REASONS) + 1)).tolist()))
    return pa.table(columns)


def write_greeks(table: pa.Table, path: Path, *, threads: int | None = None) -> None:
    """CSV with plain (unquoted where possible) fields, empty cells for missing values, written via a temp file.

    pyarrow's CSV writer is single-threaded, so a large table is formatted in slices on parallel threads (the
    writer releases the GIL) and the slices are written out in order; only the first carries the header."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    table = table.set_column(table.schema.get_field_index("reason"), "reason",
                             table["reason"].cast(pa.string()))
    threads = threads or min(os.cpu_count() or 1, 4)
    slices = 1 if table.num_rows < PARALLEL_MIN_ROWS else threads * 2
    edges = np.linspace(0, table.num_rows, slices + 1).astype(int)
    parts = [table.slice(a, b - a) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    try:
        if slices == 1:
            chunks = [_csv_bytes(parts[0], header=True)]
        else:
            with ThreadPoolExecutor(threads) as pool:
                chunks = list(pool.map(_csv_bytes, parts, [i == 0 for i in range(slices)]))
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _csv_bytes(part: pa.Table, header: bool) -> memoryview:
    sink = pa.BufferOutputStream()
    try:
        # Unquoted is what a spreadsheet user expects; an id holding a comma or quote needs the quoting.
        pacsv.write_csv(part, sink, write_options=pacsv.WriteOptions(quoting_style="none", include_header=header))
    except pa.ArrowInvalid:
        sink = pa.BufferOutputStream()
        pacsv.write_csv(part, sink, write_options=pacsv.WriteOptions(quoting_style="needed", include_header=header))
    return memoryview(sink.getvalue())


def greeks_csv(input_path: Path, output_path: Path, *, threads: int | None = None,
               max_vol_uncertainty: float = iv.MAX_VOL_UNCERTAINTY) -> dict:
    """Read quotes, solve, write; returns counts (rows, solved, by reason)."""
    quotes = read_quotes(Path(input_path))
    table = greeks_table(quotes, threads=threads, max_vol_uncertainty=max_vol_uncertainty)
    write_greeks(table, Path(output_path), threads=threads)
    reasons = table["reason"].cast(pa.string())
    counts = pc.value_counts(reasons).to_pylist()
    by_reason = {item["values"]: item["counts"] for item in counts if item["values"]}
    return {"rows": table.num_rows, "solved": table.num_rows - sum(by_reason.values()), "unsolved_by_reason": by_reason}
