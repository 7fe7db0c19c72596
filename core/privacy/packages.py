"""Package versions that hold an erased subject's records.

An unsold version has never left the workbench, so it is rebuilt in place without those rows (same name and
version: nobody holds the old files, and keeping them would keep the data). The rebuild reuses the
packaging writer, which writes and verifies a complete version in a staging directory; the old directory
is then swapped out and removed, and the DataPackage row gets the new files, checksums and changelog.
A version with no rows left is withdrawn (files removed, status "withdrawn").

A sold version cannot be recalled from its buyers' disks: it is left as delivered and a
PackageErasureNotice records which rows they must delete; `notices_for_package` and `notices_for_buyer`
return it to the Marketplace and download screens, and to the buyer through the API.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import select

from core import tenancy
from core.auth import Principal
from core.packaging.build import _pii_text, source_licences
from core.packaging.columns import column_descriptions
from core.packaging.media import MediaFile
from core.packaging.writer import DATA_FORMATS, PackageMeta, write_package_version
from core.privacy.places import package_data_file, read_table
from core.store.models import DataPackage, Dataset, RefinementRun, Sale
from core.store.models_privacy import PackageErasureNotice
from core.store.sql import session_scope

LIMITATIONS = "Collected automatically; quality scores are heuristic. Check the refinement counts."


def sold_package_ids(package_ids: list[int]) -> set[int]:
    """Versions a buyer has received: any sale past checkout (paid, or paid then refunded/charged back)."""
    if not package_ids:
        return set()
    with session_scope() as session:
        return set(session.exec(select(Sale.package_id).where(Sale.package_id.in_(package_ids),
                                                              Sale.status != "pending")).all())


def _meta(package: dict, rows: pd.DataFrame, note: str) -> PackageMeta:
    """The version's metadata as first published (datapackage.json), with the rows and changelog of now."""
    descriptor = json.loads((Path(package["path"]) / "datapackage.json").read_text(encoding="utf-8"))
    with session_scope() as session:
        dataset = session.get(Dataset, package["dataset_id"]).model_dump()
        run = session.get(RefinementRun, package["run_id"]).model_dump() if package.get("run_id") else None
    source_ids = rows["source_id"].dropna().unique().tolist() if "source_id" in rows else []
    refinement = {}
    if run:
        refinement = {"run_id": run["id"], "recipe": run["recipe"], "recipe_hash": run["recipe_hash"],
                      "counts": {k: v for k, v in run["counts"].items() if k != "funnel"}, "metrics": run["metrics"]}
    contributors = descriptor.get("contributors") or [{"title": "DataBroker Workbench"}]
    return PackageMeta(
        name=package["name"], title=package["title"], version=package["version"], license=package["license"],
        description=descriptor.get("description") or package["title"], creator=contributors[0]["title"],
        created_at=descriptor.get("created") or package["created_at"], keywords=descriptor.get("keywords", []),
        languages=sorted(rows["language"].dropna().unique().tolist()) if "language" in rows else [],
        sources=source_licences(dataset, source_ids), refinement=refinement,
        pii_handling=(_pii_text(run["recipe"]) if run else "") + " " + note,
        limitations=LIMITATIONS, changelog=f"{package['changelog']} {note}".strip(),
        field_descriptions=column_descriptions(list(rows.columns)), url=descriptor.get("homepage", ""),
    )


def _formats(package: dict) -> list[str]:
    found = [name.rsplit(".", 1)[-1] for name in package["files"] if name.startswith("data/data.")]
    return [f for f in DATA_FORMATS if f in found] or ["parquet"]


def _kept_media(version_dir: Path, rows: pd.DataFrame) -> list[MediaFile]:
    """The media files the remaining rows point at, copied from the version being replaced (the erased rows'
    files are left behind with it)."""
    if "media_path" not in rows:
        return []
    paths = sorted({str(p) for p in rows["media_path"].dropna() if str(p)})
    return [MediaFile(path=path, mime_type=mimetypes.guess_type(path)[0] or "application/octet-stream",
                      load=lambda path=path: (version_dir / path).read_bytes()) for path in paths]


def rebuild_without(package: dict, positions: list[int], erasure_id: int) -> dict:
    """Rewrite an unsold version without the rows at `positions`; returns what changed."""
    frame = read_table(package_data_file(package))
    remaining = frame.drop(index=frame.index[sorted(set(positions))]).reset_index(drop=True)
    when = datetime.now(UTC).date().isoformat()
    note = (f"Rebuilt on {when} without {len(positions)} record(s) of a data subject who asked for erasure "
            f"(erasure {erasure_id}).")
    out_dir = Path(package["path"])
    retired = out_dir.with_name(f".{out_dir.name}.erased-{erasure_id}")
    if remaining.empty:
        os.rename(out_dir, retired)
        shutil.rmtree(retired)
        _update_package(package["id"], status="withdrawn", files={}, manifest={}, path=None,
                        metrics={**package["metrics"], "rows": 0}, changelog=f"{package['changelog']} {note} "
                        "No rows were left, so the version was withdrawn.".strip())
        return {"package_id": package["id"], "action": "withdrawn", "rows_removed": len(positions), "rows_left": 0}
    fresh = out_dir.with_name(f".{out_dir.name}.rebuild-{erasure_id}")
    result = write_package_version(remaining, _meta(package, remaining, note), fresh, _formats(package),
                                   media=_kept_media(out_dir, remaining))
    # Two renames: the complete new version is in place before the old one is removed.
    os.rename(out_dir, retired)
    os.rename(fresh, out_dir)
    shutil.rmtree(retired)
    _update_package(package["id"], files=result.files, manifest={"files": result.files},
                    metrics={**package["metrics"], "rows": result.row_count},
                    changelog=f"{package['changelog']} {note}".strip())
    return {"package_id": package["id"], "action": "rebuilt", "rows_removed": len(positions),
            "rows_left": result.row_count}


def _update_package(package_id: int, **values) -> None:
    with session_scope() as session:
        row = session.get(DataPackage, package_id)
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)


def flag_sold(package: dict, record_ids: list[str], erasure_id: int) -> dict:
    notice = (f"{package['name']} {package['version']}: {len(record_ids)} record(s) in this version belong to a "
              "data subject who has exercised the right to erasure (GDPR Art. 17). Delete the rows with these "
              f"ids from every copy you hold: {', '.join(record_ids[:50])}"
              + (" and more (see record_ids)." if len(record_ids) > 50 else "."))
    with session_scope() as session:
        row = PackageErasureNotice(package_id=package["id"], erasure_id=erasure_id, rows_affected=len(record_ids),
                                   record_ids=record_ids, notice=notice)
        session.add(row)
        session.flush()
        notice_id = row.id
    return {"package_id": package["id"], "action": "flagged", "rows_affected": len(record_ids),
            "notice_id": notice_id}


def _notices(package_ids: list[int] | None) -> list[dict]:
    with session_scope() as session:
        query = (select(PackageErasureNotice, DataPackage.name, DataPackage.version)
                 .join(DataPackage, DataPackage.id == PackageErasureNotice.package_id)
                 .order_by(PackageErasureNotice.id.desc()))
        if package_ids is not None:
            query = query.where(PackageErasureNotice.package_id.in_(package_ids))
        return [{**n.model_dump(), "package": name, "version": version} for n, name, version in session.exec(query)]


def notices_for_package(principal: Principal | None, package_id: int) -> list[dict]:
    """Erasure notices of a version, for its owner, an admin, or a buyer who bought it."""
    tenancy.require_signed_in(principal, "see erasure notices")
    if principal.role != "buyer":
        tenancy.package_for(principal, package_id, action="see erasure notices")
    elif package_id not in _bought(principal):
        raise tenancy.NotFoundOrDenied(f"No package {package_id} that you can use.")
    return _notices([package_id])


def notices_for_buyer(principal: Principal | None) -> list[dict]:
    """Every erasure notice on a version the principal bought."""
    tenancy.require_signed_in(principal, "see erasure notices")
    bought = _bought(principal)
    return _notices(sorted(bought)) if bought else []


def _bought(principal: Principal) -> set[int]:
    with session_scope() as session:
        return set(session.exec(select(Sale.package_id).where(Sale.buyer_id == principal.id,
                                                              Sale.status != "pending")).all())
