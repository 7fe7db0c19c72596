"""Croissant 1.0 JSON-LD (mlcommons.org/croissant) describing one package version.

Provenance follows the Croissant 1.1 guidance, which stays valid 1.0 JSON-LD: PROV-O
``prov:wasDerivedFrom`` names every source and ``prov:wasGeneratedBy`` the refinement run, and
the Croissant RAI vocabulary (``rai:``) carries collection, preprocessing, limitations and PII.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

from core.licenses import is_valid_license, license_ids, license_url

if TYPE_CHECKING:
    from core.packaging.types import ColumnSpec, DataFile, MediaEntry, PackageMeta

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
RECORD_SET_ID = "records"
# Parquet keeps every type exactly; JSONL next; CSV last because its text cells may be formula-escaped.
RECORD_SOURCE_PREFERENCE = ("parquet", "jsonl", "csv")
ENCODING_FORMATS = {"jsonl": "application/jsonlines", "csv": "text/csv", "parquet": "application/x-parquet"}
# Croissant data types of a media file's content, by the top level of its mime type.
MEDIA_CONTENT_TYPES = {"image": "sc:ImageObject", "audio": "sc:AudioObject", "video": "sc:VideoObject"}
DATA_TYPES = {"text": "sc:Text", "float": "sc:Float", "integer": "sc:Integer", "boolean": "sc:Boolean",
              "date": "sc:Date", "datetime": "sc:DateTime"}

# The spec's recommended 1.0 context, plus the RAI and PROV-O prefixes used below.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "prov": "http://www.w3.org/ns/prov#",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def source_uri(source_id: str) -> str:
    return f"urn:databroker:source:{quote(str(source_id), safe='')}"


def run_uri(run_id: str) -> str:
    return f"urn:databroker:refinement-run:{quote(str(run_id), safe='')}"


def _licenses(expression: str) -> object:
    """SPDX page URLs for listed licences, a named CreativeWork for a custom LicenseRef."""
    entries = [license_url(key) or {"@type": "sc:CreativeWork", "name": key}
               for key in license_ids(expression)]
    return entries[0] if len(entries) == 1 else entries


def default_citation(meta: PackageMeta, year: str) -> str:
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{meta.name}_{meta.version}")
    return (f"@misc{{{key}, title={{{meta.title}}}, author={{{meta.creator}}}, year={{{year}}}, "
            f"version={{{meta.version}}}}}")


def _field(column: ColumnSpec, data_file: DataFile) -> dict:
    entry = {
        "@type": "cr:Field",
        "@id": f"{RECORD_SET_ID}/{quote(column.name, safe='')}",
        "name": column.name,
        "dataType": DATA_TYPES[column.kind],
        "source": {"fileObject": {"@id": data_file.path}, "extract": {"column": column.name}},
    }
    if column.description:
        entry["description"] = column.description
    return entry


def _file_object(data_file: DataFile) -> dict:
    return {
        "@type": "cr:FileObject",
        "@id": data_file.path,
        "name": data_file.path,
        "contentUrl": data_file.path,
        "contentSize": f"{data_file.bytes} B",
        "encodingFormat": ENCODING_FORMATS[data_file.format],
        "sha256": data_file.sha256,
    }


def _source_name(source: dict) -> str:
    return str(source.get("app") or source["source_id"])


def _source_entity(source: dict) -> dict:
    entity = {
        "@id": source_uri(source["source_id"]),
        "@type": "prov:Entity",
        "identifier": str(source["source_id"]),
        "name": _source_name(source),
        "description": f"origin: {source.get('origin') or 'unknown'}; "
                       f"attested: {'yes' if source.get('attested') else 'no'}",
    }
    if source.get("url"):
        entity["url"] = str(source["url"])
    if source.get("license"):
        licence = str(source["license"])
        entity["license"] = _licenses(licence) if is_valid_license(licence) else licence
    return entity


def refinement_summary(refinement: dict) -> str:
    """One line: recipe hash, kept of input, and the drop count of every rule."""
    counts = refinement.get("counts") or {}
    dropped = counts.get("dropped_by_rule") or {}
    rules = ", ".join(f"{rule}: {count}" for rule, count in dropped.items()) or "none"
    version = f" (dataset version {refinement['dataset_version']})" if refinement.get("dataset_version") else ""
    return (f"Refinement run {refinement.get('run_id', 'unknown')}{version} applied recipe "
            f"{refinement.get('recipe_hash', 'unknown')}: kept {counts.get('kept', '?')} of "
            f"{counts.get('input', '?')} items; dropped by rule: {rules}.")


def _provenance(meta: PackageMeta) -> dict:
    document: dict = {}
    if meta.sources:
        document["prov:wasDerivedFrom"] = [_source_entity(source) for source in meta.sources]
        origins = "; ".join(f"{_source_name(source)} ({source.get('origin') or 'unknown'})"
                            for source in meta.sources)
        document["rai:dataCollection"] = f"Collected from {len(meta.sources)} source(s): {origins}."
    if meta.refinement:
        run = meta.refinement
        activity = {"@id": run_uri(run.get("run_id", "unknown")), "@type": "prov:Activity",
                    "name": f"Refinement run {run.get('run_id', 'unknown')}",
                    "description": refinement_summary(run)}
        if meta.sources:
            activity["prov:used"] = [{"@id": source_uri(source["source_id"])} for source in meta.sources]
        document["prov:wasGeneratedBy"] = activity
        recipe = json.dumps(run.get("recipe") or {}, sort_keys=True, ensure_ascii=False, default=str)
        document["rai:dataPreprocessingProtocol"] = [refinement_summary(run), f"Recipe: {recipe}"]
    if meta.limitations:
        document["rai:dataLimitations"] = meta.limitations
    if meta.pii_handling:
        document["rai:personalSensitiveInformation"] = meta.pii_handling
    return document


def record_source(data_files: list[DataFile]) -> DataFile:
    by_format = {data_file.format: data_file for data_file in data_files}
    return next(by_format[name] for name in RECORD_SOURCE_PREFERENCE if name in by_format)


def _media_groups(media: list[MediaEntry]) -> dict[str, str]:
    """File extension -> mime type of the media files (one FileSet and RecordSet per extension)."""
    groups: dict[str, str] = {}
    for entry in media:
        groups.setdefault(PurePosixPath(entry.path).suffix.lower(), entry.mime_type)
    return dict(sorted(groups.items()))


def media_set_id(extension: str) -> str:
    """The RecordSet id of one extension's media files; its FileSet is "<id>-files" (JSON-LD ids name one
    node each, so the two must differ)."""
    return "media-" + re.sub(r"[^a-z0-9]+", "", extension.lower())


def _file_set(extension: str, mime_type: str) -> dict:
    file_set_id = f"{media_set_id(extension)}-files"
    return {"@type": "cr:FileSet", "@id": file_set_id, "name": file_set_id,
            "description": f"The {mime_type} files of the media items, named <item id>{extension}.",
            "encodingFormat": mime_type, "includes": f"media/*{extension}"}


def _media_record_set(extension: str, mime_type: str) -> dict:
    """One record per file of a media FileSet: its file name (<item id><extension>, the last part of the
    media_path column of the records) and its content."""
    set_id = media_set_id(extension)
    content_type = MEDIA_CONTENT_TYPES.get(mime_type.split("/")[0], "sc:Text")

    def field(name: str, data_type: str, file_property: str, description: str) -> dict:
        return {"@type": "cr:Field", "@id": f"{set_id}/{name}", "name": name, "dataType": data_type,
                "description": description,
                "source": {"fileSet": {"@id": f"{set_id}-files"}, "extract": {"fileProperty": file_property}}}

    return {"@type": "cr:RecordSet", "@id": set_id, "name": set_id,
            "description": f"One record per {mime_type} file media/*{extension}.",
            "field": [field("filename", "sc:Text", "filename", f"File name: <item id>{extension}."),
                      field("content", content_type, "content", f"The {mime_type} file itself.")]}


def croissant_document(meta: PackageMeta, columns: list[ColumnSpec], data_files: list[DataFile],
                       media: list[MediaEntry] = ()) -> dict:
    date_published = meta.created_iso()
    source_file = record_source(data_files)
    document = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": meta.name,
        "alternateName": meta.title,
        "description": meta.description,
        "license": _licenses(meta.license),
        "url": meta.url or f"urn:databroker:dataset:{quote(meta.name, safe='')}",
        "version": meta.version,
        "datePublished": date_published,
        "creator": {"@type": f"sc:{meta.creator_type}", "name": meta.creator},
        "keywords": list(meta.keywords),
        "inLanguage": list(meta.languages),
        "citeAs": meta.cite_as or default_citation(meta, date_published[:4]),
        "distribution": [_file_object(data_file) for data_file in data_files]
        + [_file_set(extension, mime) for extension, mime in _media_groups(list(media)).items()],
        "recordSet": [{
            "@type": "cr:RecordSet",
            "@id": RECORD_SET_ID,
            "name": RECORD_SET_ID,
            "description": f"One record per row of {source_file.path}.",
            "field": [_field(column, source_file) for column in columns],
        }],
    }
    document["recordSet"].extend(_media_record_set(extension, mime)
                                 for extension, mime in _media_groups(list(media)).items())
    document.update(_provenance(meta))
    return document
