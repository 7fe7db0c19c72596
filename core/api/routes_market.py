"""Marketplace: search, listings, purchases (internal ledger or Stripe Checkout), download tokens and
streamed downloads, reviews."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from core.api.deps import Caller
from core.api.errors import ApiProblem, Problem
from core.api.paging import MAX_ID, RowId
from core.config import get_settings
from core.market import analytics, checkout, listings, reviews, tiers
from core.market.bundles import write_bundle
from core.market.tokens import MAX_TTL_S, issue_download_token, redeem_download_token
from core.store.models import DataPackage, Listing, Sale
from core.store.sql import session_scope

router = APIRouter(tags=["marketplace"])


class _ListingText(BaseModel):
    """What a listing says, in the search results and in the seller's own view alike."""

    package_id: int
    seller_id: int
    title: str
    description: str
    tags: list[str]
    category: str
    price_cents: int
    currency: str
    license: str
    created_at: datetime


class ListingSummary(_ListingText):
    listing_id: int
    seller_name: str
    package_name: str
    package_version: str
    quality: float | None
    languages: list[str]
    average_rating: float | None
    review_count: int


class ListingIn(BaseModel):
    package_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=listings.MIN_TITLE_CHARS, max_length=listings.MAX_TITLE_CHARS,
                       pattern=r"^\S(.*\S)?$", description="no leading or trailing spaces")
    description: str = Field(default="", max_length=listings.MAX_DESCRIPTION_CHARS)
    tags: list[Annotated[str, Field(max_length=listings.MAX_TAG_CHARS)]] = Field(default_factory=list,
                                                                                max_length=listings.MAX_TAGS)
    category: str = Field(default="", max_length=100)
    price_cents: int = Field(default=0, ge=0, le=100_000_000)
    currency: str = Field(default="usd", pattern="^[a-zA-Z]{3}$", description="ISO 4217 code, e.g. usd, eur")
    license: str | None = Field(default=None, max_length=100, description="default: the package's licence")


class ListingOut(_ListingText):
    id: int
    status: str = Field(description="listed | unlisted")


class ReviewOut(BaseModel):
    id: int
    listing_id: int
    rating: int
    text: str
    reviewer: str | None = None
    created_at: datetime


class TierIn(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="e.g. research, commercial")
    license: str = Field(min_length=1, max_length=100,
                         description="the package's licence, or a LicenseRef-<name> whose terms you write out")
    terms: str = Field(default="", max_length=tiers.MAX_TERMS_CHARS, description="shown to buyers before purchase")
    price_cents: int = Field(ge=0, le=tiers.MAX_PRICE_CENTS)


class TierOut(BaseModel):
    name: str
    license: str
    terms: str
    price_cents: int
    currency: str


class ListingDetail(BaseModel):
    listing: ListingOut
    tiers: list[TierOut] = Field(description="the licence tiers it is sold under, each with its terms and price")
    seller_name: str
    package_name: str
    package_version: str
    package_rows: int | None
    card: str = Field(description="the dataset card (Markdown)")
    reviews: list[ReviewOut]
    average_rating: float | None
    review_count: int


class PurchaseIn(BaseModel):
    tier: str | None = Field(default=None, max_length=40,
                             description="which licence tier to buy; required when the listing has several")


class AnalyticsPeriod(BaseModel):
    period: datetime
    listing_id: int
    title: str
    currency: str
    views: int
    purchases: int
    revenue_cents: int
    reviews: int
    average_rating: float | None = Field(description="running average of every review up to this period")


class AnalyticsTotal(BaseModel):
    listing_id: int
    title: str
    status: str
    currency: str
    views: int
    purchases: int
    revenue_cents: int
    conversion: float | None = Field(description="purchases per view")
    reviews: int
    average_rating: float | None


class SalesAnalyticsOut(BaseModel):
    totals: list[AnalyticsTotal]
    series: list[AnalyticsPeriod]


class PurchaseOut(BaseModel):
    status: str = Field(description="paid | already owned | redirect (pay at checkout_url) | pending")
    sale_id: int
    provider: str | None = None
    checkout_url: str | None = None


class SaleOut(BaseModel):
    sale_id: int
    listing_id: int
    title: str
    package_id: int
    package_name: str
    package_version: str
    amount_cents: int
    currency: str
    provider: str
    status: str
    created_at: datetime
    fulfilled_at: datetime | None


class TokenRequest(BaseModel):
    ttl_s: int = Field(default=3600, ge=1, le=MAX_TTL_S, description="how long the link works, in seconds")


class TokenOut(BaseModel):
    token: str
    ttl_s: int
    download_path: str = Field(description="GET this path (with your API key) to download the zip")


class ReviewIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=5000)


def _require_listing(listing_id: int) -> None:
    with session_scope() as session:
        if session.get(Listing, listing_id) is None:
            raise ApiProblem(404, f"Listing #{listing_id} does not exist.")


def _listing_out(row: dict) -> ListingOut:
    return ListingOut(**{k: row[k] for k in ListingOut.model_fields})


@router.get("/listings", response_model=list[ListingSummary], summary="Search listed datasets")
def search(principal: Caller, text: Annotated[str | None, Query(max_length=200)] = None,
           category: Annotated[str | None, Query(max_length=100)] = None,
           language: Annotated[str | None, Query(max_length=20)] = None,
           license: Annotated[str | None, Query(max_length=100)] = None,
           max_price_cents: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
           min_rating: Annotated[float | None, Query(ge=0, le=5)] = None,
           sort: Annotated[Literal["newest", "price", "rating", "quality"], Query()] = "newest",
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[ListingSummary]:
    frame = listings.search_listings(principal, text=text, category=category, language=language, license=license,
                                     max_price_cents=max_price_cents, min_rating=min_rating, sort=sort)
    rows = frame.head(limit).astype(object).where(frame.head(limit).notna(), None).to_dict("records")
    return [ListingSummary(**row) for row in rows]


@router.post("/listings", response_model=ListingOut, status_code=201, summary="List one of your packages for sale")
def create(body: ListingIn, principal: Caller) -> ListingOut:
    with session_scope() as session:
        if session.get(DataPackage, body.package_id) is None:
            raise ApiProblem(404, f"Package #{body.package_id} does not exist.")
    return _listing_out(listings.create_listing(principal, body.package_id, body.title, body.description,
                                                body.tags, body.category, body.price_cents, body.currency,
                                                body.license))


@router.get("/listings/{listing_id}", response_model=ListingDetail, summary="A listing with its card and reviews")
def detail(listing_id: RowId, principal: Caller) -> ListingDetail:
    _require_listing(listing_id)
    found = listings.listing_detail(principal, listing_id)
    rows = (found["package"].get("metrics") or {}).get("rows")
    return ListingDetail(listing=_listing_out(found["listing"]), tiers=[TierOut(**t) for t in found["tiers"]],
                         seller_name=found["listing"]["seller_name"],
                         package_name=found["package"]["name"], package_version=found["package"]["version"],
                         package_rows=rows if isinstance(rows, int) else None, card=found["card"],
                         reviews=[ReviewOut(**r) for r in found["reviews"]],
                         average_rating=found["rating"]["average_rating"],
                         review_count=found["rating"]["review_count"])


@router.post("/listings/{listing_id}/unlist", response_model=ListingOut, summary="Take your listing off sale")
def unlist(listing_id: RowId, principal: Caller) -> ListingOut:
    _require_listing(listing_id)
    return _listing_out(listings.unlist(principal, listing_id))


@router.post("/listings/{listing_id}/relist", response_model=ListingOut, summary="Put your listing back on sale")
def relist(listing_id: RowId, principal: Caller) -> ListingOut:
    _require_listing(listing_id)
    return _listing_out(listings.relist(principal, listing_id))


@router.post("/listings/{listing_id}/purchase", response_model=PurchaseOut,
             responses={502: {"model": Problem, "description": "Stripe failed; nothing was charged"}},
             summary="Buy a listing (internal ledger; with Stripe configured, pay at checkout_url)")
def purchase(listing_id: RowId, principal: Caller, body: PurchaseIn | None = None) -> PurchaseOut:
    _require_listing(listing_id)
    outcome = checkout.start_purchase(principal, listing_id, tier=body.tier if body else None)
    return PurchaseOut(status=outcome["status"], sale_id=outcome["sale_id"], provider=outcome.get("provider"),
                       checkout_url=outcome.get("url"))


@router.get("/purchases", response_model=list[SaleOut], summary="Your purchases, newest first")
def purchases(principal: Caller) -> list[SaleOut]:
    frame = checkout.purchases(principal)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [SaleOut(**row) for row in rows]


@router.post("/purchases/{sale_id}/download-tokens", response_model=TokenOut, status_code=201,
             summary="A signed, expiring download token for a paid purchase")
def download_token(sale_id: RowId, body: TokenRequest, principal: Caller) -> TokenOut:
    with session_scope() as session:
        if session.get(Sale, sale_id) is None:
            raise ApiProblem(404, f"No purchase #{sale_id} that you can download.")
    token = issue_download_token(principal, sale_id, ttl_s=body.ttl_s)
    return TokenOut(token=token, ttl_s=body.ttl_s, download_path=f"/downloads/{token}")


@router.get("/downloads/{token}", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The package version as a zip (manifest.json inside), streamed"}},
            summary="Download a bought package version with a token (checked against the sale now)")
def download(token: str, principal: Caller) -> FileResponse:
    grant = redeem_download_token(principal, token)
    archive = _buyer_archive_file(grant)
    name = f"{grant['package_name']}-{grant['package_version']}.zip"
    return FileResponse(archive, media_type="application/zip", filename=name,
                        background=BackgroundTask(os.unlink, archive))


def _buyer_archive_file(grant: dict) -> Path:
    """The buyer's zip (with the licence they bought) written under DATA_DIR/tmp, so a large package streams
    from disk instead of being held in memory; the caller removes it once sent."""
    directory = get_settings().data_dir / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="download-", suffix=".zip", dir=directory)
    os.close(handle)
    try:
        write_bundle(grant["package_path"], name, tiers.buyer_extras(grant["package_path"], grant["sale_id"]))
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


@router.put("/listings/{listing_id}/tiers", response_model=list[TierOut],
            summary="Set the licence tiers your listing is sold under (replaces them; sales made keep theirs)")
def put_tiers(listing_id: RowId, body: Annotated[list[TierIn], Body(min_length=1, max_length=tiers.MAX_TIERS)],
              principal: Caller) -> list[TierOut]:
    _require_listing(listing_id)
    return [TierOut(**t) for t in tiers.set_tiers(principal, listing_id, [t.model_dump() for t in body])]


@router.get("/sales-analytics", response_model=SalesAnalyticsOut,
            summary="Views, purchases, revenue and ratings of your listings over time")
def sales_analytics(principal: Caller, period: Annotated[Literal["day", "week", "month"], Query()] = "day",
                    days: Annotated[int, Query(ge=1, le=3660)] = 90) -> SalesAnalyticsOut:
    found = analytics.sales_analytics(principal, period=period, days=days)
    frames = {name: found[name].astype(object).where(found[name].notna(), None).to_dict("records")
              for name in ("totals", "series")}
    return SalesAnalyticsOut(totals=[AnalyticsTotal(**row) for row in frames["totals"]],
                             series=[AnalyticsPeriod(**row) for row in frames["series"]])


@router.get("/listings/{listing_id}/reviews", response_model=list[ReviewOut], summary="A listing's reviews")
def list_reviews(listing_id: RowId, principal: Caller) -> list[ReviewOut]:
    _require_listing(listing_id)
    listings.listing_detail(principal, listing_id, count_view=False)  # the same visibility rule as the detail view
    return [ReviewOut(**r) for r in reviews.reviews_for(listing_id)]


@router.post("/listings/{listing_id}/reviews", response_model=ReviewOut, status_code=201,
             summary="Review a listing you bought")
def add_review(listing_id: RowId, body: ReviewIn, principal: Caller) -> ReviewOut:
    _require_listing(listing_id)
    return ReviewOut(**reviews.add_review(principal, listing_id, body.rating, body.text))
