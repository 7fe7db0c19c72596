"""Reviews: one rating (1-5) and short text per buyer per listing, only from people who paid for it.

A second review from the same buyer is refused rather than silently replacing the first: a review
that changes after the fact misleads the readers who relied on it. The unique constraint on
(listing, buyer) backs the check when two submissions race.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit
from core.auth import PermissionDenied, Principal, require_role
from core.market.checkout import paid_sale
from core.store.models import Listing, Review, User
from core.store.sql import session_scope

MAX_REVIEW_CHARS = 2000
ALREADY_REVIEWED = "You have already reviewed this listing; each buyer can leave one review."


class ReviewError(ValueError):
    """A review that cannot be accepted; the message says why."""


def _valid_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int | float) or int(rating) != rating:
        raise ReviewError("Rating must be a whole number of stars from 1 to 5.")
    if not 1 <= rating <= 5:
        raise ReviewError(f"Rating must be from 1 to 5 stars; got {rating}.")
    return int(rating)


def add_review(principal: Principal, listing_id: int, rating: int, text: str = "") -> dict:
    require_role(principal, "buyer", "admin", action="review datasets")
    rating = _valid_rating(rating)
    text = (text or "").strip()
    if len(text) > MAX_REVIEW_CHARS:
        raise ReviewError(f"Review text is {len(text):,} characters; the limit is {MAX_REVIEW_CHARS:,}.")
    with session_scope() as session:
        if session.get(Listing, listing_id) is None:
            raise ReviewError(f"Listing #{listing_id} does not exist.")
        already = session.exec(select(Review.id).where(Review.listing_id == listing_id,
                                                       Review.buyer_id == principal.id)).first()
    if already is not None:
        raise ReviewError(ALREADY_REVIEWED)
    if paid_sale(principal.id, listing_id) is None:
        raise PermissionDenied("Only buyers who paid for this dataset can review it.")
    try:
        with session_scope() as session:
            review = Review(listing_id=listing_id, buyer_id=principal.id, rating=rating, text=text)
            session.add(review)
            session.flush()
            created = review.model_dump()
    except IntegrityError:
        raise ReviewError(ALREADY_REVIEWED) from None
    audit.record("review_add", principal.id, f"listing:{listing_id}", review_id=created["id"], rating=rating)
    return created


def ratings_subquery():
    """Average rating and review count per listing, for joining into catalogue queries."""
    return (select(Review.listing_id, func.avg(Review.rating).label("average_rating"),
                   func.count(Review.id).label("review_count"))
            .group_by(Review.listing_id).subquery("listing_ratings"))


def listing_ratings(listing_ids: list[int] | None = None) -> pd.DataFrame:
    """listing_id, average_rating, review_count for every reviewed listing (or the ones asked for)."""
    ratings = ratings_subquery()
    query = select(ratings.c.listing_id, ratings.c.average_rating, ratings.c.review_count)
    if listing_ids is not None:
        query = query.where(ratings.c.listing_id.in_(listing_ids))
    with session_scope() as session:
        rows = [{"listing_id": listing_id, "average_rating": round(float(average), 2),
                 "review_count": int(count)}
                for listing_id, average, count in session.exec(query.order_by(ratings.c.listing_id))]
    return pd.DataFrame(rows, columns=["listing_id", "average_rating", "review_count"])


def reviews_for(listing_id: int) -> list[dict]:
    """Newest first, with the reviewer's display name."""
    query = (select(Review, User.display_name).join(User, User.id == Review.buyer_id)
             .where(Review.listing_id == listing_id).order_by(Review.created_at.desc(), Review.id.desc()))
    with session_scope() as session:
        return [{**review.model_dump(), "reviewer": name} for review, name in session.exec(query)]
