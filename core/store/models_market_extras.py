"""SQLModel tables of the marketplace extras (issue 19): licence tiers, the tier each sale bought, listing views.

Imported at the end of core.store.models so every table is on SQLModel.metadata (Alembic, create_all).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.models import utcnow


class ListingTier(SQLModel, table=True):
    """One way to buy a listing (e.g. research-only, commercial): its licence, terms and price. A listing
    without tiers is sold as one tier made of its own licence and price."""

    __table_args__ = (UniqueConstraint("listing_id", "name", name="uq_listingtier_listing_name"),)
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    name: str = Field(max_length=40)
    license: str = Field(max_length=100)
    terms: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    price_cents: int = 0
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class SaleTier(SQLModel, table=True):
    """The tier a sale bought, copied at purchase time so later tier edits never change what a buyer holds."""

    __table_args__ = (UniqueConstraint("sale_id", name="uq_saletier_sale"),)
    id: int | None = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="sale.id")
    tier_name: str = Field(max_length=40)
    license: str = Field(max_length=100)
    terms: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    price_cents: int = 0


class ListingView(SQLModel, table=True):
    """A signed-in visitor other than the seller opened a listing's detail (at most one per visitor per window)."""

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    viewer_id: int = Field(foreign_key="user.id", index=True)
    viewed_at: datetime = Field(default_factory=utcnow, index=True)
