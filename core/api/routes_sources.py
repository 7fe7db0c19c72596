"""Saved sources (feeds, sitemaps, listing indexes, JSON APIs, URL lists) and scrape jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from core import tenancy
from core.api.deps import Caller
from core.api.routes_datasets import APP_NAME_PATTERN
from core.api.routes_jobs import JobOut, submitted
from core.sources import registry
from core.store import jobs

router = APIRouter(tags=["sources"])
SourceName = Annotated[str, Path(min_length=1, max_length=100)]
WEB_KINDS = ("feed", "sitemap", "listing_index", "json_api", "url_list")
CONFIG_TEXT_KEYS = ("page_kind", "detail_link_selector", "next_page_selector", "items_path", "next_page_path")


class SourceConfig(BaseModel):
    urls: list[Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=1000)
    max_pages: int | None = Field(default=None, ge=1, le=100_000)
    page_kind: str | None = Field(default=None, max_length=20, description="article | listing")
    detail_link_selector: str | None = Field(default=None, max_length=500)
    next_page_selector: str | None = Field(default=None, max_length=500)
    items_path: str | None = Field(default=None, max_length=200, description="JSON APIs: where the records are")
    next_page_path: str | None = Field(default=None, max_length=200)
    field_map: dict[str, str] | None = Field(default=None, description="JSON APIs: our field -> their dotted path")
    recipe: dict[str, str] | None = Field(default=None, description="listing pages: field -> CSS selector")


class SourceIn(BaseModel):
    app: str = Field(pattern=APP_NAME_PATTERN, description="news | marketplace | property | ...")
    # Bucket sources (kind "bucket") take a bucket URL and credentials from settings: not offered here yet.
    kind: Literal[WEB_KINDS] = Field(description="what the start URLs are")
    config: SourceConfig
    license: str | None = Field(default=None, max_length=100, description="SPDX id of the content")


class SourceOut(BaseModel):
    id: int
    name: str
    app: str
    kind: str
    config: SourceConfig
    license: str | None
    robots_override: bool
    created_at: datetime


class ScrapeRequest(BaseModel):
    sources: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    demo: bool = Field(default=False, description="start the local demo sites and crawl them")


def _config_dict(config: SourceConfig) -> dict:
    return config.model_dump(exclude_none=True)


def _text_map(value) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None


def _source_out(row: dict) -> SourceOut:
    config = row.get("config") or {}
    typed = SourceConfig(
        urls=list(config.get("urls") or ["(none)"]),
        max_pages=config.get("max_pages") if isinstance(config.get("max_pages"), int) else None,
        field_map=_text_map(config.get("field_map")), recipe=_text_map(config.get("recipe")),
        **{k: str(config[k]) for k in CONFIG_TEXT_KEYS if config.get(k) is not None})
    return SourceOut(id=row["id"], name=row["name"], app=row["app"], kind=row["kind"], config=typed,
                     license=row.get("license"), robots_override=bool(row.get("robots_override")),
                     created_at=row["created_at"])


@router.get("/sources", response_model=list[SourceOut], summary="Your saved sources (admins: all)")
def list_sources(principal: Caller) -> list[SourceOut]:
    return [_source_out(row) for row in registry.list_sources(principal)]


@router.get("/sources/{name}", response_model=SourceOut, summary="One saved source")
def get_source(name: SourceName, principal: Caller) -> SourceOut:
    return _source_out(registry.get_source(principal, name))


@router.put("/sources/{name}", response_model=SourceOut, summary="Save (create or replace) a source")
def save_source(name: SourceName, body: SourceIn, principal: Caller) -> SourceOut:
    tenancy.require_supplier(principal, "configure sources")
    return _source_out(registry.save_source(principal, name, body.app, body.kind, _config_dict(body.config),
                                            license=body.license))


@router.delete("/sources/{name}", status_code=204, summary="Delete a saved source (its raw records stay)")
def delete_source(name: SourceName, principal: Caller) -> None:
    registry.delete_source(principal, name)


@router.post("/scrape-jobs", response_model=JobOut, status_code=202,
             summary="Crawl saved sources (or the demo sites) as a job; poll /jobs/{id}")
def start_scrape(body: ScrapeRequest, principal: Caller) -> JobOut:
    if not body.sources and not body.demo:
        raise ValueError("Name at least one saved source, or set demo to true.")
    for name in body.sources:
        tenancy.source_for(principal, name, action="scrape sources")  # unknown or not yours: 404 now
    return submitted(jobs.submit("scrape", {"sources": body.sources, "demo": body.demo}, principal), principal)
