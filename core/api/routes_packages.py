"""Packages: build one from a run (a job), list versions, one version with its files, a file's bytes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from core import tenancy
from core.api.deps import Caller
from core.api.errors import ApiProblem
from core.api.paging import MAX_ID, RowId
from core.api.routes_jobs import JobOut, submitted
from core.licenses import is_valid_license
from core.market.returns import quality_report, supplier_return
from core.packaging.build import list_packages, package_detail
from core.packaging.manifest import MANIFEST_NAME
from core.store import jobs

router = APIRouter(tags=["packages"])
FORMATS = ("jsonl", "csv", "parquet")


class PackageBuildRequest(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    license: str = Field(min_length=1, max_length=100, description="SPDX id or expression")
    run_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="default: the dataset's latest run")
    formats: list[Literal[FORMATS]] = Field(default_factory=lambda: list(FORMATS), min_length=1, max_length=3)
    description: str = Field(default="", max_length=5000)
    languages: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=50)
    change: Literal["major", "minor", "patch"] = Field(default="minor", description="which part of the version moves")


class PackageFile(BaseModel):
    path: str
    bytes: int
    sha256: str


class PackageOut(BaseModel):
    id: int
    name: str
    title: str
    version: str
    status: str = Field(description="building | published | failed")
    dataset_id: int
    run_id: int | None
    license: str
    rows: int | None
    changelog: str
    error: str | None
    created_at: datetime
    files: list[PackageFile]


def _package_out(row: dict) -> PackageOut:
    files = [PackageFile(path=str(p), bytes=int(e.get("bytes") or 0), sha256=str(e.get("sha256") or ""))
             for p, e in sorted((row.get("files") or {}).items()) if isinstance(e, dict)]
    rows = (row.get("metrics") or {}).get("rows")
    return PackageOut(id=row["id"], name=row["name"], title=row["title"], version=row["version"],
                      status=row["status"], dataset_id=row["dataset_id"], run_id=row.get("run_id"),
                      license=row["license"], rows=rows if isinstance(rows, int) else None,
                      changelog=row.get("changelog") or "", error=row.get("error"), created_at=row["created_at"],
                      files=files)


@router.post("/datasets/{name}/packages", response_model=JobOut, status_code=202,
             summary="Build the next package version from a run (a job; poll /jobs/{id})")
def build(name: str, body: PackageBuildRequest, principal: Caller) -> JobOut:
    tenancy.dataset_for(principal, name, action="build packages")
    if not is_valid_license(body.license):
        raise ValueError(f"'{body.license}' is not an SPDX licence identifier or expression.")
    if body.run_id is not None:
        run = tenancy.run_for(principal, body.run_id)
        if run["dataset_id"] != tenancy.dataset_for(principal, name)["id"]:
            raise ValueError(f"Run {body.run_id} is not a run of dataset '{name}'.")
    # Never an out_dir from the caller: packages go under DATA_DIR/packages only.
    params = {"dataset": name, "title": body.title, "license": body.license,
              "formats": list(dict.fromkeys(body.formats)), "run_id": body.run_id, "description": body.description,
              "languages": body.languages, "change": body.change}
    return submitted(jobs.submit("package", params, principal), principal)


@router.get("/packages", response_model=list[PackageOut], summary="Package versions of your datasets, newest first")
def packages(principal: Caller, dataset: Annotated[str | None, Query(max_length=200)] = None) -> list[PackageOut]:
    frame = list_packages(principal, dataset)
    return [_package_out(package_detail(principal, int(package_id))) for package_id in frame["package_id"]]


@router.get("/packages/{package_id}", response_model=PackageOut, summary="One package version and its files")
def get_package(package_id: RowId, principal: Caller) -> PackageOut:
    return _package_out(package_detail(principal, package_id))


@router.get("/packages/{package_id}/files/{file_path:path}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                  "format": "binary"}}},
                             "description": "The file's bytes, streamed"}},
            summary="One file of a package version (its owner; buyers download through tokens)")
def package_file(package_id: RowId, file_path: Annotated[str, Path(min_length=1, max_length=500)],
                 principal: Caller) -> FileResponse:
    package = package_detail(principal, package_id)
    listed = set(package.get("files") or {}) | {MANIFEST_NAME}
    if file_path not in listed or not package.get("path"):
        raise ApiProblem(404, f"Package {package_id} has no file '{file_path[:100]}'; see its files list.")
    root = FilePath(package["path"]).resolve()
    target = (root / file_path).resolve()
    # The name is one the manifest lists, but the file on disk could have been swapped for a symlink.
    if not target.is_relative_to(root) or not target.is_file() or (root / file_path).is_symlink():
        raise ApiProblem(404, f"The file '{file_path[:100]}' of package {package_id} is not available on disk.")
    return FileResponse(target, media_type="application/octet-stream", filename=target.name)


@router.get("/packages/{package_id}/quality-report", response_model=dict,
            summary="The quality report of the run a package version was built from (counts, drop reasons, "
                    "signal distributions)")
def package_quality_report(package_id: RowId, principal: Caller) -> dict:
    package = package_detail(principal, package_id)
    if not package.get("run_id"):
        raise ApiProblem(404, f"Package {package_id} was not built from a refinement run; it has no quality report.")
    return quality_report(principal, package["run_id"])


@router.get("/packages/{package_id}/supplier-return", response_class=Response,
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The version's files plus quality-report/ (JSON and Markdown), with "
                                            "manifest.json covering both"}},
            summary="Your own package version with its quality report, whether or not you sell it")
def package_supplier_return(package_id: RowId, principal: Caller) -> Response:
    name, archive = supplier_return(principal, package_id)
    return Response(archive, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
