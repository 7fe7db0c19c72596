"""The shapes a package version is described with, shared by the writer and the metadata builders.

The writer builds Croissant, datapackage.json and the dataset card from these; the builders and media.py
import them from here, so no packaging module needs the writer's types from the writer itself (the
circle writer -> croissant -> writer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path


class PackageBuildError(ValueError):
    """The package cannot be built from these inputs; the message says what to fix."""


@dataclass
class PackageMeta:
    name: str  # lowercase slug, also the Frictionless package name
    title: str
    version: str  # semver
    description: str
    license: str  # SPDX id or expression
    creator: str
    created_at: datetime | str
    keywords: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    # each: {source_id, app, url, license, origin, attested}
    sources: list[dict] = field(default_factory=list)
    # {run_id, dataset_version (label), recipe (dict), recipe_hash, counts {input, kept, dropped_by_rule}, metrics}
    refinement: dict = field(default_factory=dict)
    pii_handling: str = ""
    limitations: str = ""
    changelog: str = ""
    field_descriptions: dict[str, str] = field(default_factory=dict)
    url: str = ""  # landing page; Croissant requires a url, so a urn:databroker: id stands in when empty
    cite_as: str = ""
    task_categories: list[str] = field(default_factory=list)
    creator_type: str = "Organization"  # or "Person"

    def created_iso(self) -> str:
        """created_at as an ISO 8601 string; raises TypeError or ValueError when it is neither."""
        value = self.created_at
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, (datetime, date)):
            raise TypeError("created_at must be a datetime or an ISO 8601 string")
        return value.isoformat()


@dataclass(frozen=True)
class PackageResult:
    path: Path
    files: dict[str, dict[str, object]]  # same mapping as manifest.json "files"
    row_count: int
    checksums: dict[str, str]  # relative path -> sha256


@dataclass(frozen=True)
class ColumnSpec:
    """One column as published. kind is text, float, integer, boolean, date or datetime; a naive
    datetime column whose values all fall on midnight is published as a date."""

    name: str
    kind: str
    description: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the version directory, POSIX style
    format: str  # one of DATA_FORMATS
    bytes: int
    sha256: str


@dataclass(frozen=True)
class MediaEntry:
    """One media file as written into the package (media/<item id><extension>)."""

    path: str  # relative to the version directory, POSIX style
    mime_type: str
    bytes: int
    sha256: str
