"""Build a package version from a refinement run's kept items, inside the stores.

The files are written by `writer.write_package_version` (atomic, verified); this module picks the
run, filters the rows, checks the licence against every source's recorded licence, chooses the next
semantic version, and records the DataPackage row (building -> published, or failed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit, recovery, tenancy
from core.auth import Principal
from core.licenses import check_license_compatibility, is_valid_license, normalize_license
from core.packaging.columns import column_descriptions, flatten_fields
from core.packaging.media import attach_media
from core.packaging.versioning import next_version
from core.packaging.writer import PackageBuildError, PackageMeta, write_package_version
from core.refine.versions import run_version
from core.store import jobs, lake, processes
from core.store.models import DataPackage, Dataset, Source
from core.store.sql import session_scope

DEFAULT_FORMATS = ("jsonl", "csv", "parquet")
PACKAGE_COLUMNS = ["id", "title", "text", "url", "source_id", "source_app", "data_type", "language", "quality",
                   "topic_label", "content_type", "fields"]


@dataclass
class PackageRequest:
    dataset: str
    title: str
    license: str
    formats: tuple[str, ...] = DEFAULT_FORMATS
    run_id: int | None = None
    description: str = ""
    languages: list[str] = field(default_factory=list)  # keep only these languages (empty: all)
    topics: list[str] = field(default_factory=list)  # keep only these topic labels (empty: all)
    sources: list[str] = field(default_factory=list)  # keep only these source ids (empty: all)
    change: str = "minor"  # semver part to bump from the previous version
    out_dir: Path | None = None  # default: DATA_DIR/packages/<name>/<version>


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise PackageBuildError("Give the package a title with letters or digits.")
    return slug[:80]


def latest_run_id(dataset_id: int) -> int:
    from core.store.models import RefinementRun

    with session_scope() as session:
        run_id = session.exec(select(RefinementRun.id).where(RefinementRun.dataset_id == dataset_id,
                                                             RefinementRun.status == "succeeded")
                              .order_by(RefinementRun.id.desc())).first()
    if run_id is None:
        raise PackageBuildError("This dataset has no finished refinement run yet; refine it first.")
    return run_id


def _filtered_rows(validated_path: str, request: PackageRequest) -> pd.DataFrame:
    rows = lake.read_parquet(Path(validated_path))
    if request.languages and "language" in rows:
        rows = rows[rows["language"].isin(request.languages)]
    if request.topics and "topic_label" in rows:
        rows = rows[rows["topic_label"].isin(request.topics)]
    if request.sources:
        rows = rows[rows["source_id"].isin(request.sources)]
    if rows.empty:
        raise PackageBuildError("No kept items match these filters; loosen them or pick another run.")
    rows = rows[[c for c in PACKAGE_COLUMNS if c in rows.columns]]
    return flatten_fields(rows).reset_index(drop=True)


def source_licences(dataset: dict, source_ids: list[str]) -> list[dict]:
    """The recorded licence and provenance of each source that contributed rows."""
    with session_scope() as session:
        known = {s.name: s for s in session.exec(select(Source).where(Source.name.in_(source_ids)))}
    sources = []
    for source_id in sorted(source_ids):
        source = known.get(source_id)
        if source is not None:
            sources.append({"source_id": source_id, "app": source.app, "license": source.license,
                            "url": (source.config.get("urls") or [None])[0], "origin": "web", "attested": True})
        else:  # uploads carry their licence on the dataset
            sources.append({"source_id": source_id, "app": dataset["app"], "license": dataset["license"],
                            "url": None, "origin": dataset["origin"], "attested": dataset["attested"]})
    return sources


def _require_valid_licence(text: str | None) -> None:
    if not is_valid_license(text or ""):
        raise PackageBuildError(f"'{text}' is not an SPDX licence identifier or expression.")


def licence_conflicts(licence: str, sources: list[dict]) -> list[str]:
    """One sentence per source whose recorded licence the package licence would break."""
    conflicts = check_license_compatibility(licence, {s["source_id"]: s["license"] or "NOASSERTION" for s in sources})
    return [f"source '{c.source}' ({c.source_license}): {c.reason}" for c in conflicts]


def check_package_licence(principal: Principal, request: PackageRequest) -> list[str]:
    """The licence problems a build of `request` would stop at, found before it is submitted: the same
    check the build makes, over the sources of the rows the request's filters keep."""
    dataset = tenancy.dataset_for(principal, request.dataset, action="build packages")
    if not is_valid_license(request.license or ""):
        return [f"'{request.license}' is not an SPDX licence identifier or expression."]
    run = tenancy.run_for(principal, request.run_id or latest_run_id(dataset["id"]))
    if run["dataset_id"] != dataset["id"] or not run.get("validated_path"):
        return []  # the build explains an unusable run itself
    path = Path(run["validated_path"])
    # Only the columns the filters and the licence check read: the texts are most of the file.
    present = set(pq.read_schema(path).names)
    rows = lake.read_parquet(path, columns=[c for c in ("source_id", "language", "topic_label") if c in present])
    for column, wanted in (("language", request.languages), ("topic_label", request.topics),
                           ("source_id", request.sources)):
        if wanted and column in rows:
            rows = rows[rows[column].isin(wanted)]
    return licence_conflicts(normalize_license(request.license),
                             source_licences(dataset, rows["source_id"].unique().tolist()))


def _previous(name: str, owner_id: int | None) -> dict | None:
    """The latest published version of `name`; a name another owner already publishes under is refused."""
    with session_scope() as session:
        rows = session.exec(select(DataPackage, Dataset.created_by)
                            .join(Dataset, Dataset.id == DataPackage.dataset_id)
                            .where(DataPackage.name == name, DataPackage.status == "published")).all()
    if any(owner != owner_id for _, owner in rows):
        raise PackageBuildError(f"The package name '{name}' is taken by another supplier; choose another title.")
    rows = [package for package, _ in rows]
    if not rows:
        return None
    from core.packaging.versioning import parse_version

    return max((r.model_dump() for r in rows), key=lambda r: parse_version(r["version"])[:3])


def build_package(principal: Principal, request: PackageRequest, progress=None, job_id: int | None = None) -> dict:
    """Build and publish the next version; `job_id` is the job running the build, if any, so start-up
    recovery can tell a live build from one whose process died."""
    dataset = tenancy.dataset_for(principal, request.dataset, action="build packages")
    notify = progress or (lambda fraction, message: None)
    _require_valid_licence(request.license)
    licence = normalize_license(request.license)
    run_id = request.run_id or latest_run_id(dataset["id"])
    run = tenancy.run_for(principal, run_id)
    if run["dataset_id"] != dataset["id"] or run["status"] != "succeeded":
        raise PackageBuildError(f"Run {run_id} is not a finished run of dataset '{request.dataset}'.")
    # The dataset version is frozen into the package: later runs renumber nothing it already says.
    dataset_version = {key: run_version(principal, run_id)[key] for key in ("run_id", "number", "label")}
    notify(0.1, "Reading the kept items")
    rows = _filtered_rows(run["validated_path"], request)
    # Media items carry their files; redacting personal data also strips EXIF GPS and serials from images.
    rows, media = attach_media(rows, strip_personal=pii_policy(run["recipe"]) == "redact")
    sources = source_licences(dataset, rows["source_id"].unique().tolist())
    conflicts = licence_conflicts(licence, sources)
    if conflicts:
        raise PackageBuildError("Licence conflict: " + "; ".join(conflicts))
    name = slugify(request.title)
    previous = _previous(name, dataset["created_by"])
    version = next_version(previous["version"], request.change) if previous else "1.0.0"
    changelog = _changelog(previous, len(rows), run)
    meta = PackageMeta(
        name=name, title=request.title, version=version, license=licence, creator=principal.display_name,
        description=request.description or f"Refined {dataset['app']} data from dataset '{dataset['name']}'.",
        created_at=datetime.now(UTC), keywords=[dataset["app"], *dataset.get("topic_keywords", [])],
        languages=sorted(rows["language"].dropna().unique().tolist()) if "language" in rows else [],
        sources=sources, changelog=changelog, url=f"https://databroker.local/packages/{name}",
        refinement={"run_id": run_id, "dataset_version": dataset_version["label"], "recipe": run["recipe"],
                    "recipe_hash": run["recipe_hash"],
                    "counts": {k: v for k, v in run["counts"].items() if k != "funnel"}, "metrics": run["metrics"]},
        pii_handling=_pii_text(run["recipe"], bool(media)), field_descriptions=column_descriptions(list(rows.columns)),
        limitations="Collected automatically; quality scores are heuristic. Check the refinement counts.",
    )
    out_dir = request.out_dir or lake.zone_path("packages", name, version)
    package_id = _claim_version(
        {"dataset_id": dataset["id"], "run_id": run_id, "name": name, "title": request.title, "version": version,
         "license": licence, "created_by": principal.id, "job_id": job_id}, Path(out_dir))
    processes.mark_in_progress(f"package:{package_id}")
    notify(0.3, f"Writing {name} {version}")
    try:
        result = write_package_version(rows, meta, Path(out_dir), request.formats, media)
    except BaseException as exc:
        with session_scope() as session:
            failed = session.get(DataPackage, package_id)
            failed.status, failed.changelog = "failed", f"Build failed: {exc}"
            failed.error = f"{type(exc).__name__}: {exc}"[:2000]
            session.add(failed)
        raise
    finally:
        processes.mark_done(f"package:{package_id}")
    metrics = {"rows": result.row_count, "media_files": len(media), "languages": meta.languages,
               "mean_quality": round(float(rows["quality"].mean()), 4) if "quality" in rows else None}
    with session_scope() as session:
        package = session.get(DataPackage, package_id)
        package.status, package.path = "published", str(result.path)
        package.files = result.files
        package.manifest = {"files": result.files, "dataset_version": dataset_version}
        package.metrics, package.changelog = metrics, changelog
        session.add(package)
    audit.record("package_build", principal.id, f"package:{name}@{version}", run_id=run_id, rows=result.row_count)
    notify(1.0, f"Published {name} {version}")
    return {"package_id": package_id, "name": name, "version": version, "path": str(result.path),
            "rows": result.row_count, "files": result.files}


def _claim_version(fields: dict, out_dir: Path) -> int:
    """The id of the DataPackage row this build now owns for its name and version: a new row, or the row
    of a failed attempt taken over. A version already published, or being built by a live process, is a
    PackageBuildError that says so (never a raw UNIQUE violation)."""
    name, version = fields["name"], fields["version"]
    existing = _version_row(name, version)
    if existing is not None and existing["status"] == "building":
        # A build killed since the last start must not block this one until the next restart.
        jobs.fail_orphaned_jobs()
        recovery.fail_dead_builds()
        existing = _version_row(name, version)
    building = {**fields, "status": "building", "error": None, "path": None, "files": {}, "metrics": {},
                "changelog": "", "created_at": datetime.now(UTC),
                "manifest": {"building": recovery.in_progress_mark(out_dir=str(out_dir))}}
    if existing is None:
        try:
            with session_scope() as session:
                package = DataPackage(**building)
                session.add(package)
                session.flush()
                return package.id
        except IntegrityError:  # another build claimed this version a moment ago
            existing = _version_row(name, version)
    if existing is not None and existing["status"] == "failed":
        with session_scope() as session:  # only if still failed: two builds may race to take it over
            taken = session.execute(update(DataPackage).where(DataPackage.id == existing["id"],
                                                              DataPackage.status == "failed").values(**building))
        if taken.rowcount == 1:
            return existing["id"]
        existing = _version_row(name, version)
    if existing is not None and existing["status"] == "published":
        raise PackageBuildError(f"{name} {version} is already published; versions are immutable, so build the "
                                "next version instead.")
    job = f" (job {existing['job_id']})" if existing and existing.get("job_id") else ""
    raise PackageBuildError(f"{name} {version} is being built right now{job}; wait for that build to finish, "
                            "then build again.")


def _version_row(name: str, version: str) -> dict | None:
    with session_scope() as session:
        row = session.exec(select(DataPackage).where(DataPackage.name == name,
                                                     DataPackage.version == version)).first()
        return row.model_dump() if row else None


def _changelog(previous: dict | None, rows: int, run: dict) -> str:
    if previous is None:
        return f"First version: {rows:,} items from refinement run {run['id']}."
    before = previous["metrics"].get("rows", 0)
    return (f"Rebuilt from refinement run {run['id']}: {rows:,} items ({rows - before:+,} since "
            f"{previous['version']}).")


def pii_policy(recipe: dict) -> str:
    """What the run's recipe did with personal data: "redact", "drop" or "keep"."""
    policy = json.dumps(recipe).lower()
    if '"redact"' in policy:
        return "redact"
    return "drop" if '"drop"' in policy else "keep"


def _pii_text(recipe: dict, has_media: bool = False) -> str:
    policy = pii_policy(recipe)
    if policy == "redact":
        return ("Emails, phone numbers, card numbers, IBANs, IP addresses and national ids were replaced by tags."
                + (" EXIF GPS positions and camera and lens serial numbers were removed from the images."
                   if has_media else ""))
    if policy == "drop":
        return ("Items containing personal data (emails, phones, cards, IBANs, IPs, national ids"
                + (", images with EXIF GPS positions or camera serial numbers" if has_media else "")
                + ") were dropped.")
    return ("Personal data was detected and counted but kept; check the PII metrics before use."
            + (" Images keep their EXIF, including any GPS position." if has_media else ""))


def list_packages(principal: Principal | None, dataset_name: str | None = None) -> pd.DataFrame:
    """Package versions of the principal's datasets (admins: all), newest first."""
    tenancy.require_supplier(principal, "see packages")
    with session_scope() as session:
        query = (select(DataPackage, Dataset.name).join(Dataset, Dataset.id == DataPackage.dataset_id)
                 .order_by(DataPackage.id.desc()))
        if not tenancy.sees_everything(principal):
            query = query.where(Dataset.created_by == principal.id)
        if dataset_name:
            query = query.where(Dataset.name == dataset_name)
        rows = [{"package_id": p.id, "name": p.name, "version": p.version, "status": p.status, "dataset": d,
                 "run_id": p.run_id, "dataset_version": (p.manifest.get("dataset_version") or {}).get("label"),
                 "license": p.license, "rows": p.metrics.get("rows"), "path": p.path,
                 "created_at": p.created_at, "changelog": p.changelog} for p, d in session.exec(query)]
    return pd.DataFrame(rows, columns=["package_id", "name", "version", "status", "dataset", "run_id",
                                       "dataset_version", "license", "rows", "path", "created_at", "changelog"])


def dataset_card_body(package_path: str | Path | None) -> str:
    """The package's README.md without its YAML front matter (what the pages render), or "" if absent."""
    card_path = Path(package_path) / "README.md" if package_path else None
    if card_path is None or not card_path.exists():
        return ""
    card = card_path.read_text(encoding="utf-8")
    return card.split("---", 2)[-1] if card.startswith("---") else card


def package_detail(principal: Principal | None, package_id: int) -> dict:
    return tenancy.package_for(principal, package_id)


def package_metadata(package_path: str | Path, name: str) -> dict:
    """A package's croissant.json or datapackage.json, parsed; PackageBuildError says what is wrong with it."""
    path = Path(package_path) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageBuildError(f"{name} is missing from {path.parent}: the package's files were moved or "
                                "deleted. Restore them, or build the version again.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageBuildError(f"{name} in {path.parent} cannot be read ({exc}); verify the package.") from None
