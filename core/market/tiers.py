"""Licence tiers: one listing sold under several licences at their own prices (e.g. research-only, commercial).

A listing without tier rows is sold as one tier, "standard", made of its own licence and price, so
listings made before tiers existed work unchanged. A buyer's sale records a copy of the tier bought
(SaleTier); their download carries LICENSE-PURCHASED.md and a dataset card that names that licence.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import select

from core import audit, tenancy
from core.auth import Principal
from core.licenses import is_valid_license, normalize_license
from core.market.bundles import bundle_bytes
from core.packaging.dataset_card import escape_markdown, escape_prose
from core.store.models import DataPackage, Listing, Sale
from core.store.models_market_extras import ListingTier, SaleTier
from core.store.sql import session_scope


class TierError(ValueError):
    """A tier request that cannot be carried out; the message says what to change."""

# Stripe's ceiling for one Checkout line item, as listings.MAX_PRICE_CENTS (not imported from there:
# checkout imports this module, and listings imports checkout through reviews).
MAX_PRICE_CENTS = 99_999_999
DEFAULT_TIER = "standard"
MAX_TIERS = 5
MAX_TERMS_CHARS = 10_000
_TIER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PURCHASED_LICENCE_FILE = "LICENSE-PURCHASED.md"
CARD_FILE = "README.md"


def _default_tier(listing: Listing) -> dict:
    return {"name": DEFAULT_TIER, "license": listing.license, "terms": "", "price_cents": listing.price_cents,
            "currency": listing.currency}


def tiers_of(session, listing: Listing) -> list[dict]:
    rows = session.exec(select(ListingTier).where(ListingTier.listing_id == listing.id)
                        .order_by(ListingTier.position, ListingTier.id)).all()
    if not rows:
        return [_default_tier(listing)]
    return [{"name": row.name, "license": row.license, "terms": row.terms, "price_cents": row.price_cents,
             "currency": listing.currency} for row in rows]


def listing_tiers(listing_id: int) -> list[dict]:
    """The tiers a listing is sold under, in the seller's order (public, like the listing's price)."""
    with session_scope() as session:
        listing = session.get(Listing, listing_id)
        if listing is None:
            raise TierError(f"Listing #{listing_id} does not exist.")
        return tiers_of(session, listing)


def tier_for_purchase(session, listing: Listing, tier_name: str | None) -> dict:
    """The tier a purchase is for; None picks the only tier, and is refused when there are several."""
    tiers = tiers_of(session, listing)
    if tier_name is None:
        if len(tiers) > 1:
            raise TierError("This listing is sold under several licence tiers; choose one of "
                               + ", ".join(t["name"] for t in tiers) + ".")
        return tiers[0]
    for tier in tiers:
        if tier["name"] == tier_name:
            return tier
    raise TierError(f"This listing has no tier '{str(tier_name)[:40]}'; its tiers are "
                       + ", ".join(t["name"] for t in tiers) + ".")


def _validated_tiers(tiers: list[dict], package_license: str) -> list[dict]:
    """Every problem at once. A tier's licence is the package's own licence or a custom LicenseRef whose
    terms are written out (a restriction such as research-only); it may not claim another public licence."""
    if not isinstance(tiers, list) or not 1 <= len(tiers) <= MAX_TIERS:
        raise TierError(f"Give 1 to {MAX_TIERS} tiers.")
    problems, cleaned = [], []
    for number, tier in enumerate(tiers, start=1):
        name = str(tier.get("name") or "").strip().lower()
        license = str(tier.get("license") or "").strip()
        terms = str(tier.get("terms") or "").strip()
        price = tier.get("price_cents")
        if not _TIER_NAME.match(name):
            problems.append(f"Tier {number}: the name must be 1-40 lower-case letters, digits or '-'.")
        if not is_valid_license(license):
            problems.append(f"Tier {number}: '{license[:100]}' is not an SPDX licence or LicenseRef.")
        elif normalize_license(license) != normalize_license(package_license):
            if not license.lower().startswith("licenseref-"):
                problems.append(f"Tier {number}: the licence must be the package's ({package_license}) or a "
                                "custom LicenseRef-<name>; build a new package version to change the data licence.")
            elif not terms:
                problems.append(f"Tier {number}: a custom licence ({license}) needs its terms written out.")
        if len(terms) > MAX_TERMS_CHARS:
            problems.append(f"Tier {number}: terms are limited to {MAX_TERMS_CHARS:,} characters.")
        if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE_CENTS:
            problems.append(f"Tier {number}: the price must be whole cents from 0 to {MAX_PRICE_CENTS:,}.")
        cleaned.append({"name": name, "license": license, "terms": terms, "price_cents": price})
    names = [tier["name"] for tier in cleaned]
    if len(set(names)) != len(names):
        problems.append("Tier names must differ.")
    if problems:
        raise TierError(" ".join(problems))
    return cleaned


def set_tiers(principal: Principal, listing_id: int, tiers: list[dict]) -> list[dict]:
    """Replace a listing's tiers (its seller or an admin). Sales already made keep the tier they bought.
    The listing's own price becomes the lowest tier price, so catalogue search and sorting stay right."""
    with session_scope() as session:
        listing = tenancy.sellers_listing(session, principal, listing_id, missing=TierError,
                                          change="this listing's tiers")
        cleaned = _validated_tiers(tiers, session.get(DataPackage, listing.package_id).license)
        session.execute(delete(ListingTier).where(ListingTier.listing_id == listing_id))
        for position, tier in enumerate(cleaned):
            session.add(ListingTier(listing_id=listing_id, position=position, **tier))
        listing.price_cents = min(tier["price_cents"] for tier in cleaned)
        session.add(listing)
        session.flush()
        result = tiers_of(session, listing)
    audit.record("listing_tiers", principal.id, f"listing:{listing_id}",
                 tiers=[{"name": t["name"], "license": t["license"], "price_cents": t["price_cents"]} for t in result])
    return result


def sale_tier(sale_id: int) -> dict | None:
    """The tier recorded for a sale (with the sale's currency and the listing's title), or None for sales
    made before tiers (they carry the package's licence as built)."""
    with session_scope() as session:
        row = session.exec(select(SaleTier, Sale.currency, Listing.title).join(Sale, Sale.id == SaleTier.sale_id)
                           .join(Listing, Listing.id == Sale.listing_id)
                           .where(SaleTier.sale_id == sale_id)).first()
        if row is None:
            return None
        tier, currency, title = row
        return {**tier.model_dump(exclude={"id"}), "currency": currency, "listing_title": title}


def purchased_licence_text(tier: dict) -> str:
    terms = escape_prose(tier["terms"]) if tier["terms"] else \
        "The licence's own terms apply (see the dataset card's Licence section)."
    return (f"# Licence you bought\n\nDataset: {escape_markdown(tier['listing_title'], 300)}\n\n"
            f"- Tier: `{tier['tier_name']}`\n- Licence: `{tier['license']}`\n"
            f"- Price paid: {tier['price_cents'] / 100:.2f} {tier['currency'].upper()}\n\n## Terms\n\n{terms}\n")


def buyer_extras(package_path: str | Path, sale_id: int) -> dict[str, bytes]:
    """Files a buyer's zip gains: the bought licence, and the dataset card ending with a note naming it.
    Empty for sales made before tiers, whose zip is the package as built."""
    tier = sale_tier(sale_id)
    if tier is None:
        return {}
    card_path = Path(package_path) / CARD_FILE
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    # Appended, not prepended: the card opens with YAML front matter that must stay first.
    # Tier names and licences were validated (SPDX syntax, [a-z0-9-]), so they are safe in code spans.
    notice = (f"\n\n## Licence you bought\n\n`{tier['license']}` (tier `{tier['tier_name']}`); "
              f"the terms are in {PURCHASED_LICENCE_FILE}.\n")
    return {PURCHASED_LICENCE_FILE: purchased_licence_text(tier).encode("utf-8"),
            CARD_FILE: (card.rstrip("\n") + notice).encode("utf-8")}


def buyer_archive(grant: dict) -> bytes:
    """The zip a buyer downloads for a redeemed download grant (core.market.tokens), in memory."""
    return bundle_bytes(grant["package_path"], buyer_extras(grant["package_path"], grant["sale_id"]))
