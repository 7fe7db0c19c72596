"""Dataset card (README.md) in the style of the big dataset hubs: YAML front matter, then sections.

Scraped values (example row, source names and URLs) are made inert: HTML special characters
become entities and Markdown syntax is backslash-escaped, so a card never renders someone
else's markup. Analyst-written prose keeps its Markdown but has its HTML escaped.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import yaml

from core.licenses import check_license_compatibility, license_ids, license_url
from core.packaging.croissant import RECORD_SOURCE_PREFERENCE

if TYPE_CHECKING:
    from core.packaging.types import ColumnSpec, DataFile, MediaEntry, PackageMeta

EXAMPLE_VALUE_LIMIT = 200
# Hub licence tags where they differ from the lowercased SPDX id.
_HUB_LICENSES = {"ODbL-1.0": "odbl", "ODC-By-1.0": "odc-by", "PDDL-1.0": "pddl", "GPL-2.0-only": "gpl-2.0",
                 "GPL-3.0-only": "gpl-3.0", "AGPL-3.0-only": "agpl-3.0", "LGPL-3.0-only": "lgpl-3.0"}
_SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                    (10_000_000_000, "1B<n<10B")]
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def escape_markdown(value: object, limit: int | None = None) -> str:
    """An untrusted value as one inert line of Markdown text (safe inside a table cell)."""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # ':' is escaped too so "javascript:" or "http:" never becomes a live autolink.
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))


def escape_prose(text: str) -> str:
    """Analyst-written Markdown with any raw HTML shown as text instead of rendered."""
    return html.escape(str(text), quote=False).strip()


def size_category(row_count: int) -> str:
    return next((label for bound, label in _SIZE_CATEGORIES if row_count < bound), "n>10B")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _code_block(text: str, language: str) -> str:
    """A fenced block whose fence is longer than any backtick run inside, so content cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _front_matter(meta: PackageMeta, row_count: int, data_files: list[DataFile]) -> str:
    ids = license_ids(meta.license)
    single = len(ids) == 1 and license_url(ids[0]) is not None  # a listed SPDX id, not a LicenseRef
    header: dict = {"pretty_name": meta.title,
                    "license": _HUB_LICENSES.get(ids[0], ids[0].lower()) if single else "other"}
    if not single:
        header["license_name"] = meta.license
    if meta.languages:
        header["language"] = list(meta.languages)
    if meta.task_categories:
        header["task_categories"] = list(meta.task_categories)
    header["size_categories"] = [size_category(row_count)]
    if meta.keywords:
        header["tags"] = list(meta.keywords)
    by_format = {data_file.format: data_file.path for data_file in data_files}
    preferred = next(by_format[name] for name in RECORD_SOURCE_PREFERENCE if name in by_format)
    header["configs"] = [{"config_name": "default", "data_files": preferred}]
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---"


def _summary(meta: PackageMeta, row_count: int) -> str:
    facts = [["Name", escape_markdown(meta.name)], ["Version", escape_markdown(meta.version)],
             ["Rows", str(row_count)], ["Published", escape_markdown(meta.created_iso())],
             ["Creator", escape_markdown(meta.creator)], ["Licence", escape_markdown(meta.license)]]
    return f"## Dataset summary\n\n{escape_prose(meta.description)}\n\n{_table(['', ''], facts)}"


def _example_value(value: object) -> str:
    return "*null*" if value is None else escape_markdown(value, EXAMPLE_VALUE_LIMIT)


def _structure(columns: list[ColumnSpec], data_files: list[DataFile], example_row: dict | None) -> str:
    files = [[escape_markdown(f.path), f.format, str(f.bytes), f"`{f.sha256}`"] for f in data_files]
    fields = [[escape_markdown(c.name), c.kind, "yes" if c.nullable else "no", escape_markdown(c.description)]
              for c in columns]
    if example_row is None:
        example = "The package has no rows."
    else:
        values = [[escape_markdown(name), _example_value(value)] for name, value in example_row.items()]
        example = _table(["Field", "Value"], values)
    csv_note = ("\n\nCSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or "
                "carriage return) are prefixed with an apostrophe; JSONL and Parquet keep the exact values."
                if any(f.format == "csv" for f in data_files) else "")
    return ("## Dataset structure\n\n### Data files\n\n"
            + _table(["File", "Format", "Bytes", "SHA-256"], files) + csv_note
            + "\n\n### Fields\n\n" + _table(["Field", "Type", "Nullable", "Description"], fields)
            + "\n\n### Example row\n\n" + example)


def _sources(meta: PackageMeta) -> str:
    if not meta.sources:
        return "## Sources and provenance\n\nNo sources were recorded for this package."
    rows = [[escape_markdown(s["source_id"]), escape_markdown(s.get("app") or ""),
             escape_markdown(s.get("url") or ""), escape_markdown(s.get("license") or "unknown"),
             escape_markdown(s.get("origin") or "unknown"), "yes" if s.get("attested") else "no"]
            for s in meta.sources]
    return ("## Sources and provenance\n\n"
            + _table(["Source", "App", "URL", "Licence", "Origin", "Attested"], rows)
            + "\n\ncroissant.json records the same provenance in PROV-O terms (`prov:wasDerivedFrom`, "
              "`prov:wasGeneratedBy`); manifest.json lists the SHA-256 of every file in this version.")


def _refinement(meta: PackageMeta) -> str:
    run = meta.refinement
    if not run:
        return "## Refinement\n\nNo refinement run was recorded: the rows are packaged as collected."
    counts = run.get("counts") or {}
    rows = [["input", str(counts.get("input", "?"))], ["kept", str(counts.get("kept", "?"))]]
    rows += [[f"dropped by {escape_markdown(rule)}", str(count)]
             for rule, count in (counts.get("dropped_by_rule") or {}).items()]
    recipe = yaml.safe_dump(run.get("recipe") or {}, sort_keys=False, allow_unicode=True)
    version = (f"Dataset version {escape_markdown(run['dataset_version'])} (the kept items of that run).\n\n"
               if run.get("dataset_version") else "")
    return (f"## Refinement\n\nRun {escape_markdown(run.get('run_id', 'unknown'))}, recipe hash "
            f"{escape_markdown(run.get('recipe_hash', 'unknown'))}.\n\n{version}### Recipe\n\n"
            + _code_block(recipe, "yaml") + "\n\n### Counts\n\n" + _table(["Step", "Items"], rows))


def _metrics(meta: PackageMeta) -> str:
    metrics = (meta.refinement or {}).get("metrics") or {}
    if not metrics:
        return "## Quality metrics\n\nNo quality metrics were recorded."
    rows = [[escape_markdown(name), f"{value:.4g}" if isinstance(value, float) else escape_markdown(value)]
            for name, value in metrics.items()]
    return "## Quality metrics\n\n" + _table(["Metric", "Value"], rows)


def _licence(meta: PackageMeta) -> str:
    source_licenses = {str(source["source_id"]): str(source.get("license") or "NOASSERTION")
                       for source in meta.sources}
    conflicts = check_license_compatibility(meta.license, source_licenses)
    if conflicts:
        notes = "\n".join(f"- {escape_markdown(c.source)}: {escape_markdown(c.reason)}" for c in conflicts)
        verdict = f"The built-in licence rules found conflicts with source licences:\n\n{notes}"
    else:
        verdict = "The built-in licence rules found no conflict with the source licences."
    return f"## Licence\n\nThis package is licensed under {escape_markdown(meta.license)}.\n\n{verdict}"


def _media(media: list[MediaEntry]) -> str:
    """How many files of each type sit under media/ (each file's SHA-256 is in manifest.json)."""
    counts: dict[str, list[int]] = {}
    for entry in media:
        tally = counts.setdefault(entry.mime_type, [0, 0])
        tally[0] += 1
        tally[1] += entry.bytes
    rows = [[escape_markdown(mime), str(n), str(size)] for mime, (n, size) in sorted(counts.items())]
    return ("## Media files\n\nThe image, audio and video files of the media items are under `media/`, named "
            "`<id>.<extension>`; each row's `media_path` gives its file. `manifest.json` lists every file with its "
            "SHA-256.\n\n" + _table(["Type", "Files", "Bytes"], rows))


def _text_section(title: str, text: str, missing: str) -> str:
    return f"## {title}\n\n{escape_prose(text) if text.strip() else missing}"


def dataset_card(meta: PackageMeta, columns: list[ColumnSpec], data_files: list[DataFile],
                 row_count: int, example_row: dict | None, media: list[MediaEntry] = ()) -> str:
    languages = ", ".join(escape_markdown(code) for code in meta.languages) or "Not recorded."
    sections = [
        _front_matter(meta, row_count, data_files),
        f"# {escape_markdown(meta.title)}",
        _summary(meta, row_count),
        _structure(columns, data_files, example_row),
        *([_media(list(media))] if media else []),
        _sources(meta),
        _refinement(meta),
        _metrics(meta),
        f"## Languages\n\n{languages}",
        _licence(meta),
        _text_section("Limitations", meta.limitations, "No limitations were documented."),
        _text_section("Personal data (PII) handling", meta.pii_handling, "No PII handling was documented."),
        _text_section("Changelog", meta.changelog, "No changelog entry."),
    ]
    return "\n\n".join(sections) + "\n"
