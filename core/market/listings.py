"""Listings: a published package offered for sale (or for free), and the catalogue search over them.

Only the seller (the supplier who built the package) or an admin may list, unlist or relist; the
checks live here so a page that shows the wrong button still cannot change someone else's listing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd
from babel.numbers import list_currencies
from sqlalchemy import String, cast, func, or_
from sqlmodel import select

from core import audit, tenancy
from core.auth import PermissionDenied, Principal, require_role
from core.licenses import is_valid_license, normalize_license
from core.market.analytics import record_view
from core.market.reviews import ratings_subquery, reviews_for
from core.market.tiers import listing_tiers
from core.packaging.build import dataset_card_body
from core.store.models import DataPackage, Dataset, Listing, User
from core.store.sql import session_scope

MAX_TITLE_CHARS = 300
MIN_TITLE_CHARS = 3
MAX_DESCRIPTION_CHARS = 20_000
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_CATEGORY_CHARS = 100
# Stripe's ceiling for one Checkout line item; the ledger uses the same so a listing never has to change.
MAX_PRICE_CENTS = 99_999_999
SORTS = ("newest", "price", "rating", "quality")
SAMPLE_ROWS = 5
SEARCH_COLUMNS = ["listing_id", "title", "description", "tags", "category", "price_cents", "currency",
                  "license", "seller_id", "seller_name", "package_id", "package_name", "package_version",
                  "quality", "languages", "average_rating", "review_count", "created_at"]


class ListingError(ValueError):
    """A listing request that cannot be carried out; the message says what to change."""


@lru_cache(maxsize=1)
def _iso_currencies() -> frozenset[str]:
    return frozenset(code.lower() for code in list_currencies())


def _clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    # Stored lower-case so that the catalogue's case-insensitive tag search is a plain substring match.
    cleaned = [str(tag).strip().lower() for tag in tags]
    return list(dict.fromkeys(tag for tag in cleaned if tag))


def _validated_fields(title, description, tags, category, price_cents, currency) -> dict:
    """Every problem at once, so the seller fixes the form in one go."""
    problems = []
    title = (title or "").strip()
    if not MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS:
        problems.append(f"Title must be {MIN_TITLE_CHARS} to {MAX_TITLE_CHARS} characters.")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        problems.append(f"Description is {len(description):,} characters; "
                        f"the limit is {MAX_DESCRIPTION_CHARS:,}.")
    tag_list = _clean_tags(tags)
    if len(tag_list) > MAX_TAGS:
        problems.append(f"At most {MAX_TAGS} tags ({len(tag_list)} given).")
    long_tags = [tag for tag in tag_list if len(tag) > MAX_TAG_CHARS]
    if long_tags:
        shown = ", ".join(tag[:20] + "..." for tag in long_tags)
        problems.append(f"Tags longer than {MAX_TAG_CHARS} characters: {shown}.")
    category = (category or "").strip()
    if len(category) > MAX_CATEGORY_CHARS:
        problems.append(f"Category must be at most {MAX_CATEGORY_CHARS} characters.")
    if isinstance(price_cents, bool) or not isinstance(price_cents, int):
        problems.append("Price must be a whole number of cents (0 for free).")
    elif not 0 <= price_cents <= MAX_PRICE_CENTS:
        problems.append(f"Price must be between 0 (free) and {MAX_PRICE_CENTS:,} cents.")
    currency = str(currency or "").strip().lower()
    if currency not in _iso_currencies():
        problems.append(f"Currency '{currency}' is not an ISO 4217 code (for example usd, eur, gbp).")
    if problems:
        raise ListingError(" ".join(problems))
    return {"title": title, "description": description, "tags": tag_list, "category": category,
            "price_cents": price_cents, "currency": currency}


def _listing_license(package: DataPackage, license: str | None) -> str:
    if not license:
        return package.license
    if not is_valid_license(license):
        raise ListingError(f"'{license}' is not an SPDX licence identifier or expression.")
    # The package licence was checked against every source's licence when it was built; a listing
    # may not quietly relicense the data.
    if normalize_license(license) != normalize_license(package.license):
        raise ListingError(f"The listing licence must be the package's licence ({package.license}); "
                           "build a new package version to change it.")
    return package.license


def _refuse_second_live_listing(session, package_id: int, seller_id: int) -> None:
    existing = session.exec(select(Listing.id).where(Listing.package_id == package_id,
                                                     Listing.seller_id == seller_id,
                                                     Listing.status == "listed")).first()
    if existing is not None:
        raise ListingError(f"This package is already listed by the same seller as listing #{existing}; "
                           "unlist that one first.")


def create_listing(principal: Principal, package_id: int, title: str, description: str = "",
                   tags: Iterable[str] | str | None = (), category: str = "", price_cents: int = 0,
                   currency: str = "usd", license: str | None = None) -> dict:
    require_role(principal, "supplier", "admin", action="list packages for sale")
    fields = _validated_fields(title, description, tags, category, price_cents, currency)
    with session_scope() as session:
        package = session.get(DataPackage, package_id)
        if package is None:
            raise ListingError(f"Package #{package_id} does not exist.")
        if package.status != "published":
            raise ListingError(f"Package {package.name} {package.version} is {package.status}, "
                               "not published; only published packages can be listed.")
        # The package belongs to its dataset's owner, whoever pressed Build (an admin may build for them).
        if not tenancy.owns(principal, session.get(Dataset, package.dataset_id).created_by):
            raise PermissionDenied("A supplier can only list packages of their own datasets.")
        _refuse_second_live_listing(session, package_id, principal.id)
        listing = Listing(package_id=package_id, seller_id=principal.id,
                          license=_listing_license(package, license), **fields)
        session.add(listing)
        session.flush()
        created = listing.model_dump()
    audit.record("listing_create", principal.id, f"listing:{created['id']}", package_id=package_id,
                 price_cents=created["price_cents"], currency=created["currency"])
    return created


def _set_status(principal: Principal | None, listing_id: int, status: str) -> dict:
    with session_scope() as session:
        listing = tenancy.sellers_listing(session, principal, listing_id, missing=ListingError)
        if status == "listed" and listing.status != "listed":
            package = session.get(DataPackage, listing.package_id)
            if package is None or package.status != "published":
                raise ListingError("The package behind this listing is no longer published; "
                                   "it cannot be relisted.")
            _refuse_second_live_listing(session, listing.package_id, listing.seller_id)
        listing.status = status
        session.add(listing)
        changed = listing.model_dump()
    audit.record("listing_relist" if status == "listed" else "listing_unlist", principal.id,
                 f"listing:{listing_id}")
    return changed


def unlist(principal: Principal, listing_id: int) -> dict:
    """Take a listing off sale; buyers who paid keep their downloads."""
    return _set_status(principal, listing_id, "unlisted")


def relist(principal: Principal, listing_id: int) -> dict:
    return _set_status(principal, listing_id, "listed")


def _text_condition(text: str):
    needle = text.strip().lower()
    # Tags are stored as JSON text, where non-ASCII letters are \u escapes: search for the escaped form.
    tag_needle = json.dumps(needle)[1:-1]
    return or_(func.lower(Listing.title).contains(needle, autoescape=True),
               func.lower(Listing.description).contains(needle, autoescape=True),
               func.lower(cast(Listing.tags, String)).contains(tag_needle, autoescape=True))


def _order_by(sort: str, average_rating, review_count):
    quality = DataPackage.metrics["mean_quality"].as_float()
    orders = {
        "newest": [Listing.created_at.desc()],
        "price": [Listing.price_cents.asc()],
        # coalesce rather than NULLS LAST: unrated and unscored listings sort last on every dialect.
        "rating": [func.coalesce(average_rating, -1.0).desc(), func.coalesce(review_count, 0).desc()],
        "quality": [func.coalesce(quality, -1.0).desc()],
    }
    return [*orders[sort], Listing.id.desc()]


def search_listings(principal: Principal | None, text: str | None = None, category: str | None = None,
                    language: str | None = None, license: str | None = None, max_price_cents: int | None = None,
                    min_rating: float | None = None, sort: str = "newest") -> pd.DataFrame:
    """Listed listings matching every given filter, with ratings and package metrics (any signed-in user)."""
    tenancy.require_signed_in(principal, "search the marketplace")
    if sort not in SORTS:
        raise ListingError(f"Sort must be one of {', '.join(SORTS)}; got '{sort}'.")
    ratings = ratings_subquery()
    # Plain columns, not ORM entities: building thousands of Listing objects costs more than the query.
    query = (select(Listing.id.label("listing_id"), Listing.title, Listing.description, Listing.tags,
                    Listing.category, Listing.price_cents, Listing.currency, Listing.license,
                    Listing.seller_id, User.display_name.label("seller_name"), Listing.package_id,
                    DataPackage.name.label("package_name"), DataPackage.version.label("package_version"),
                    DataPackage.metrics, ratings.c.average_rating, ratings.c.review_count, Listing.created_at)
             .join(DataPackage, DataPackage.id == Listing.package_id)
             .join(User, User.id == Listing.seller_id)
             .outerjoin(ratings, ratings.c.listing_id == Listing.id)
             .where(Listing.status == "listed"))
    if text and text.strip():
        query = query.where(_text_condition(text))
    if category:
        query = query.where(func.lower(Listing.category) == category.strip().lower())
    if license:
        query = query.where(func.lower(Listing.license) == license.strip().lower())
    if max_price_cents is not None:
        query = query.where(Listing.price_cents <= max_price_cents)
    if min_rating is not None:
        query = query.where(func.coalesce(ratings.c.average_rating, 0) >= min_rating)
    query = query.order_by(*_order_by(sort, ratings.c.average_rating, ratings.c.review_count))
    with session_scope() as session:
        rows = [_search_row(dict(row._mapping)) for row in session.exec(query)]
    if language:
        # A JSON-array membership test differs on every SQL dialect; the catalogue is small, so filter here.
        wanted = language.strip().lower()
        rows = [row for row in rows if wanted in (lang.lower() for lang in row["languages"])]
    return pd.DataFrame(rows, columns=SEARCH_COLUMNS)


def _search_row(row: dict) -> dict:
    metrics = row.pop("metrics") or {}
    quality, average = metrics.get("mean_quality"), row["average_rating"]
    return {**row, "quality": float(quality) if quality is not None else None,
            "languages": list(metrics.get("languages") or []),
            "average_rating": round(float(average), 2) if average is not None else None,
            "review_count": int(row["review_count"] or 0)}


def listing_detail(principal: Principal | None, listing_id: int, count_view: bool = True) -> dict:
    """The listing, its package (path, files, metrics), its licence tiers and its reviews, for the detail view.
    Opening someone else's listing counts as a view in the seller's analytics (count_view=False: a check only)."""
    tenancy.require_signed_in(principal, "see listings")
    with session_scope() as session:
        row = session.exec(select(Listing, DataPackage, User.display_name)
                           .join(DataPackage, DataPackage.id == Listing.package_id)
                           .join(User, User.id == Listing.seller_id)
                           .where(Listing.id == listing_id)).first()
        if row is None:
            raise ListingError(f"Listing #{listing_id} does not exist.")
        listing, package, seller = row
        detail = {"listing": {**listing.model_dump(), "seller_name": seller}, "package": package.model_dump()}
    # What any signed-in visitor may see of the data: a few sample rows and the dataset card. The server
    # path stays with the seller and admins (buyers download through tokens, never by path).
    root = Path(detail["package"]["path"]) if detail["package"].get("path") else None
    detail["sample"] = _sample_rows(root)
    detail["card"] = dataset_card_body(root)
    if not tenancy.owns(principal, detail["listing"]["seller_id"]):
        detail["package"].pop("path", None)
    if count_view and principal.id != detail["listing"]["seller_id"]:
        record_view(listing_id, principal.id)
    detail["tiers"] = listing_tiers(listing_id)
    reviews = reviews_for(listing_id)
    ratings = [review["rating"] for review in reviews]
    detail["reviews"] = reviews
    detail["rating"] = {"average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
                        "review_count": len(ratings)}
    return detail


def _sample_rows(package_root: Path | None, rows: int = SAMPLE_ROWS) -> list[dict]:
    data = package_root / "data" / "data.jsonl" if package_root else None
    if data is None or not data.exists():
        return []
    with open(data, encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(rows), handle, strict=False)]
