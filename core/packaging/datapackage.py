"""Frictionless Data Package descriptor (datapackage.json) for one package version."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from core.licenses import license_ids, license_url

if TYPE_CHECKING:
    from core.packaging.types import ColumnSpec, DataFile, MediaEntry, PackageMeta

MEDIA_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
FIELD_TYPES = {"text": "string", "float": "number", "integer": "integer", "boolean": "boolean",
               "date": "date", "datetime": "datetime"}
_TEXT_FORMATS = ("jsonl", "csv")


def _schema(columns: list[ColumnSpec]) -> dict:
    fields = []
    for column in columns:
        entry = {"name": column.name, "type": FIELD_TYPES[column.kind]}
        if column.description:
            entry["description"] = column.description
        # An empty text (a media item has no text) reads back as missing under missingValues [""], so only
        # columns of other kinds can promise a value in every row.
        if not column.nullable and column.kind != "text":
            entry["constraints"] = {"required": True}
        fields.append(entry)
    # An empty CSV cell is a missing value; JSONL uses null and Parquet its own nulls.
    return {"fields": fields, "missingValues": [""]}


def _resource(data_file: DataFile, schema: dict) -> dict:
    resource = {
        "name": f"data-{data_file.format}",
        "path": data_file.path,
        "format": data_file.format,
        "mediatype": MEDIA_TYPES[data_file.format],
        "hash": f"sha256:{data_file.sha256}",
        "schema": schema,
    }
    if data_file.format in _TEXT_FORMATS:
        resource["encoding"] = "utf-8"
        # frictionless 5 reads Parquet through pyarrow and never measures its size, so a declared
        # "bytes" fails its byte-count check; manifest.json still records the size of every file.
        resource["bytes"] = data_file.bytes
    return resource


def _media_resource(entry: MediaEntry) -> dict:
    """A non-tabular resource: frictionless checks its size and SHA-256, never parses it as a table."""
    path = PurePosixPath(entry.path)
    return {"name": re.sub(r"[^a-z0-9._-]+", "-", f"media-{path.stem}-{path.suffix.lstrip('.')}".lower()),
            "type": "file", "path": entry.path, "format": path.suffix.lstrip(".").lower(),
            "mediatype": entry.mime_type, "bytes": entry.bytes, "hash": f"sha256:{entry.sha256}"}


def _licenses(expression: str) -> list[dict]:
    entries = []
    for key in license_ids(expression):
        entry = {"name": key, "title": key}
        if url := license_url(key):
            entry["path"] = url
        entries.append(entry)
    return entries


def _sources(meta: PackageMeta) -> list[dict]:
    sources = []
    for source in meta.sources:
        entry = {"title": f"{source.get('app') or 'source'}: {source['source_id']}"}
        if source.get("url"):
            entry["path"] = str(source["url"])
        sources.append(entry)
    return sources


def _refinement(meta: PackageMeta) -> dict:
    """The run's identity and outcome; the full recipe lives in croissant.json and README.md."""
    run = meta.refinement
    return {key: run[key] for key in ("run_id", "dataset_version", "recipe_hash", "counts", "metrics")
            if key in run}


def datapackage_descriptor(meta: PackageMeta, columns: list[ColumnSpec], data_files: list[DataFile],
                           media: list[MediaEntry] = ()) -> dict:
    schema = _schema(columns)
    descriptor = {
        "name": meta.name,
        "title": meta.title,
        "description": meta.description,
        "version": meta.version,
        "created": meta.created_iso(),
        "keywords": list(meta.keywords),
        "licenses": _licenses(meta.license),
        "sources": _sources(meta),
        "contributors": [{"title": meta.creator, "role": "author"}],
        "resources": [_resource(data_file, schema) for data_file in data_files]
        + [_media_resource(entry) for entry in media],
    }
    if meta.url:
        descriptor["homepage"] = meta.url
    if meta.refinement:
        descriptor["refinement"] = _refinement(meta)
    return descriptor
