"""Marketplace core: listings, ledger purchases, search, reviews, download tokens and archives.

Tests that depend on SQL behaviour (sale uniqueness, JSON in queries, the review constraint) run
on both SQLite and PostgreSQL through the `sql_url` fixture; the rest use the session workbench.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from principals import as_admin, new_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.auth import PermissionDenied, Principal
from core.config import reset_settings_cache
from core.market import tokens
from core.market.checkout import CheckoutError, purchases, start_purchase
from core.market.downloads import DownloadError, package_archive, verify_downloaded_archive
from core.market.listings import ListingError, create_listing, listing_detail, relist, search_listings, unlist
from core.market.reviews import MAX_REVIEW_CHARS, ReviewError, add_review, listing_ratings
from core.market.revocations import recent_sales, revoke_sale
from core.market.tokens import EXPIRED, INVALID, issue_download_token, redeem_download_token
from core.store.models import AuditEvent, DataPackage, Dataset, Download, Sale
from core.store.sql import session_scope

PACKAGE_FILES = {"data/items.csv": b"id,text\n1,hello\n2,world\n", "README.md": b"# Tiny package\n"}


# ---- builders shared with test_stripe.py ---------------------------------------------------------------


def write_package_dir(root: Path, files: dict[str, bytes] = PACKAGE_FILES) -> dict:
    """A package version directory: the files plus manifest.json {"files": {path: {sha256, bytes}}}."""
    entries = {}
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        entries[relative] = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    (root / "manifest.json").write_text(json.dumps({"files": entries}), encoding="utf-8")
    return entries


def make_package(owner: Principal, root: Path, *, status: str = "published", license: str = "CC-BY-4.0",
                 metrics: dict | None = None) -> int:
    files = write_package_dir(root)
    with session_scope() as session:
        dataset = Dataset(name=f"ds-{uuid.uuid4().hex[:12]}", app="news", created_by=owner.id)
        session.add(dataset)
        session.flush()
        if metrics is None:
            metrics = {"languages": ["en"], "mean_quality": 0.8}
        package = DataPackage(dataset_id=dataset.id, name=f"pkg-{uuid.uuid4().hex[:8]}", title="Tiny",
                              version="1.0.0", status=status, path=str(root), license=license, files=files,
                              manifest={"files": files}, metrics=metrics, created_by=owner.id)
        session.add(package)
        session.flush()
        return package.id


def make_listing(owner: Principal, root: Path, *, price_cents: int = 0, title: str = "Tiny news set",
                 metrics: dict | None = None, **fields) -> dict:
    package_id = make_package(owner, root, metrics=metrics)
    return create_listing(owner, package_id, title, fields.pop("description", "Clean English news."),
                          fields.pop("tags", ["news"]), fields.pop("category", "news"), price_cents,
                          fields.pop("currency", "usd"), fields.pop("license", None))


def sales_of(buyer_id: int, listing_id: int) -> list[dict]:
    with session_scope() as session:
        return [sale.model_dump() for sale in session.exec(
            select(Sale).where(Sale.buyer_id == buyer_id, Sale.listing_id == listing_id))]


@pytest.fixture
def market(workbench, tmp_path):
    """A supplier with one free listing, a buyer and an admin on the session store."""
    supplier = new_user("supplier")
    listing = make_listing(supplier, tmp_path / "pkg")
    return {"supplier": supplier, "buyer": new_user("buyer"), "admin": new_user("admin"),
            "listing": listing, "root": tmp_path / "pkg"}


# ---- listings --------------------------------------------------------------------------------------------

def test_only_suppliers_and_admins_list_and_only_published_own_packages(workbench, tmp_path):
    supplier, other, buyer, admin = (new_user(r) for r in ("supplier", "supplier", "buyer", "admin"))
    package_id = make_package(supplier, tmp_path / "a")
    with pytest.raises(PermissionDenied, match="supplier or admin"):
        create_listing(buyer, package_id, "Buyer tries", "", [], "", 0, "usd", None)
    with pytest.raises(PermissionDenied, match="packages of their own datasets"):
        create_listing(other, package_id, "Not mine", "", [], "", 0, "usd", None)
    draft_id = make_package(supplier, tmp_path / "b", status="building")
    with pytest.raises(ListingError, match="not published"):
        create_listing(supplier, draft_id, "Draft", "", [], "", 0, "usd", None)
    with pytest.raises(ListingError, match="does not exist"):
        create_listing(supplier, 10**9, "Ghost", "", [], "", 0, "usd", None)
    listing = create_listing(supplier, package_id, "  Mine  ", "d", "News, Tech ,news", "news", 500, "EUR",
                             None)
    assert (listing["title"], listing["tags"], listing["currency"], listing["license"]) == (
        "Mine", ["news", "tech"], "eur", "CC-BY-4.0")
    with pytest.raises(ListingError, match="already listed by the same seller"):
        create_listing(supplier, package_id, "Again", "", [], "", 0, "usd", None)
    by_admin = create_listing(admin, package_id, "Admin lists it", "", [], "", 0, "usd", None)
    assert by_admin["seller_id"] == admin.id
    with session_scope() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "listing_create",
                                                     AuditEvent.target == f"listing:{listing['id']}")).first()


def test_listing_input_problems_are_reported_together(workbench, tmp_path):
    supplier = new_user("supplier")
    package_id = make_package(supplier, tmp_path)
    with pytest.raises(ListingError) as error:
        create_listing(supplier, package_id, "x", "", [f"t{i}" for i in range(25)], "", -1, "dollars", None)
    message = str(error.value)
    for expected in ("Title must be", "At most 20 tags", "Price must be between", "not an ISO 4217 code"):
        assert expected in message
    with pytest.raises(ListingError, match="whole number of cents"):
        create_listing(supplier, package_id, "Fine title", "", [], "", 9.99, "usd", None)
    with pytest.raises(ListingError, match="must be the package's licence"):
        create_listing(supplier, package_id, "Fine title", "", [], "", 0, "usd", "MIT")
    with pytest.raises(ListingError, match="not an SPDX"):
        create_listing(supplier, package_id, "Fine title", "", [], "", 0, "usd", "whatever licence")
    lower_case = create_listing(supplier, package_id, "Fine title", "", [], "", 0, "usd", "cc-by-4.0")
    assert lower_case["license"] == "CC-BY-4.0"


def test_unlist_and_relist_only_by_seller_or_admin(market):
    listing, other, owner = market["listing"], new_user("supplier"), new_user("buyer")
    start_purchase(owner, listing["id"])
    with pytest.raises(PermissionDenied, match="seller or an admin"):
        unlist(other, listing["id"])
    with pytest.raises(PermissionDenied):
        unlist(market["buyer"], listing["id"])
    assert unlist(market["supplier"], listing["id"])["status"] == "unlisted"
    assert listing["id"] not in search_listings(as_admin(), text=listing["title"])["listing_id"].tolist()
    with pytest.raises(CheckoutError, match="no longer on sale"):
        start_purchase(market["buyer"], listing["id"])
    assert start_purchase(owner, listing["id"])["status"] == "already owned"
    replacement = create_listing(market["supplier"], listing["package_id"], "Replacement")
    with pytest.raises(ListingError, match="already listed by the same seller"):
        relist(market["supplier"], listing["id"])
    unlist(market["supplier"], replacement["id"])
    assert relist(market["admin"], listing["id"])["status"] == "listed"
    assert listing["id"] in search_listings(as_admin(), text=listing["title"])["listing_id"].tolist()


# ---- purchases -------------------------------------------------------------------------------------------

def test_roles_enforced_on_purchase(market):
    listing_id = market["listing"]["id"]
    with pytest.raises(PermissionDenied, match="buyer or admin"):
        start_purchase(market["supplier"], listing_id)
    with pytest.raises(PermissionDenied, match="Sign in"):
        start_purchase(None, listing_id)
    admin_listing = make_listing(market["admin"], market["root"].parent / "admin-pkg")
    with pytest.raises(PermissionDenied, match="your own listing"):
        start_purchase(market["admin"], admin_listing["id"])
    with pytest.raises(CheckoutError, match="does not exist"):
        start_purchase(market["buyer"], 10**9)
    assert start_purchase(market["admin"], listing_id)["status"] == "paid"


def test_ledger_purchase_is_paid_once_and_then_already_owned(sql_url, tmp_path):
    supplier, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(supplier, tmp_path / "pkg", price_cents=1250)
    first = start_purchase(buyer, listing["id"])
    assert first["status"] == "paid" and first["provider"] == "ledger"
    again = start_purchase(buyer, listing["id"])
    assert again == {"status": "already owned", "sale_id": first["sale_id"], "provider": "ledger"}
    [sale] = sales_of(buyer.id, listing["id"])
    assert (sale["status"], sale["amount_cents"], sale["currency"]) == ("paid", 1250, "usd")
    assert uuid.UUID(sale["provider_ref"]) and sale["fulfilled_at"] is not None
    assert purchases(buyer)[["sale_id", "status", "package_version"]].values.tolist() == [
        [first["sale_id"], "paid", "1.0.0"]]


def test_racing_purchases_record_one_sale(sql_url, tmp_path):
    supplier, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(supplier, tmp_path / "pkg", price_cents=300)
    results, barrier = [], threading.Barrier(4)

    def buy():
        barrier.wait()
        results.append(start_purchase(buyer, listing["id"]))

    threads = [threading.Thread(target=buy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sales_of(buyer.id, listing["id"])) == 1
    assert len({r["sale_id"] for r in results}) == 1
    assert sorted(r["status"] for r in results).count("paid") == 1


def test_store_refuses_two_sales_with_one_provider_reference(sql_url, tmp_path):
    supplier, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(supplier, tmp_path / "pkg")
    start_purchase(buyer, listing["id"])
    [row] = sales_of(buyer.id, listing["id"])
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Sale(listing_id=listing["id"], package_id=listing["package_id"], buyer_id=buyer.id,
                         amount_cents=0, currency="usd", provider="ledger", provider_ref=row["provider_ref"]))


def test_free_listing_uses_the_ledger_even_with_stripe_configured(market, monkeypatch):
    # An unreachable API base: any call to Stripe would fail the test.
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_unused")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    reset_settings_cache()
    try:
        result = start_purchase(market["buyer"], market["listing"]["id"])
    finally:
        monkeypatch.delenv("STRIPE_SECRET_KEY")
        monkeypatch.delenv("STRIPE_API_BASE")
        reset_settings_cache()
    assert result["status"] == "paid" and result["provider"] == "ledger"


def test_refund_lets_the_buyer_buy_again(market):
    buyer, listing_id = market["buyer"], market["listing"]["id"]
    first = start_purchase(buyer, listing_id)
    with pytest.raises(PermissionDenied):
        revoke_sale(buyer, first["sale_id"])
    revoked = revoke_sale(market["admin"], first["sale_id"], reason="test refund")
    assert (revoked["status"], revoked["refund_id"]) == ("refunded", None)  # the ledger moves no money
    second = start_purchase(buyer, listing_id)
    assert second["status"] == "paid" and second["sale_id"] != first["sale_id"]


def test_revoke_only_paid_sales_to_a_revoked_status(market):
    admin, buyer = market["admin"], market["buyer"]
    sale_id = start_purchase(buyer, market["listing"]["id"])["sale_id"]
    for status in ("paid", "pending", " Expired ", "failed", "", "x" * 21):
        with pytest.raises(CheckoutError, match="Revoking sets a status such as refunded or chargeback"):
            revoke_sale(admin, sale_id, status)
    with pytest.raises(CheckoutError, match="does not exist"):
        revoke_sale(admin, 10**9)
    assert revoke_sale(admin, sale_id, " Chargeback ")["status"] == "chargeback"
    with pytest.raises(CheckoutError, match=f"Sale #{sale_id} is already chargeback; nothing was changed"):
        revoke_sale(admin, sale_id, "refunded")
    with session_scope() as session:
        unpaid = Sale(listing_id=market["listing"]["id"], package_id=market["listing"]["package_id"],
                      buyer_id=buyer.id, amount_cents=500, currency="usd", provider="stripe",
                      provider_ref=f"pending:{uuid.uuid4().hex}", status="pending")
        session.add(unpaid)
        session.flush()
        unpaid_id = unpaid.id
    with pytest.raises(CheckoutError, match=f"Sale #{unpaid_id} is pending, not paid, so there is nothing"):
        revoke_sale(admin, unpaid_id, "refunded")
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "sale_revoke",
                                                       AuditEvent.target == f"sale:{sale_id}")).all()
        assert [e.detail["status"] for e in events] == ["chargeback"]


def test_admin_sees_recent_sales(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    with pytest.raises(PermissionDenied, match="admin"):
        recent_sales(market["buyer"])
    table = recent_sales(market["admin"], limit=5)
    assert len(table) <= 5
    row = table.iloc[0].to_dict()
    assert (row["sale_id"], row["listing"], row["buyer"], row["amount_cents"], row["provider"], row["status"]) == (
        sale_id, market["listing"]["title"], market["buyer"].email, 0, "ledger", "paid")


# ---- search ----------------------------------------------------------------------------------------------

def test_search_filters_and_sorts_in_sql(sql_url, tmp_path):
    supplier, buyers = new_user("supplier"), [new_user("buyer") for _ in range(2)]
    cheap = make_listing(supplier, tmp_path / "a", price_cents=100, title="Cheap German news",
                         description="Nachrichten", tags=["Nachrichten", "Café"], category="News",
                         metrics={"languages": ["de"], "mean_quality": 0.61})
    dear = make_listing(supplier, tmp_path / "b", price_cents=5000, title="Premium property listings",
                        description="Rentals with prices", tags=["property"], category="property",
                        metrics={"languages": ["en", "fr"], "mean_quality": 0.93})
    free = make_listing(supplier, tmp_path / "c", price_cents=0, title="Free English 100% news",
                        description="Open data", tags=["news"], category="news",
                        metrics={"languages": ["en"], "mean_quality": None})
    ids = {"cheap": cheap["id"], "dear": dear["id"], "free": free["id"]}
    for buyer, rating in zip(buyers, (5, 4), strict=True):
        start_purchase(buyer, ids["cheap"])
        add_review(buyer, ids["cheap"], rating, "good")
    start_purchase(buyers[0], ids["free"])
    add_review(buyers[0], ids["free"], 2, "meh")

    def found(**filters) -> list[int]:
        return search_listings(as_admin(), **filters)["listing_id"].tolist()

    assert found(sort="newest") == [ids["free"], ids["dear"], ids["cheap"]]
    assert found(sort="price") == [ids["free"], ids["cheap"], ids["dear"]]
    assert found(sort="rating") == [ids["cheap"], ids["free"], ids["dear"]]
    assert found(sort="quality") == [ids["dear"], ids["cheap"], ids["free"]]
    assert found(text="PREMIUM") == [ids["dear"]]
    assert found(text="rentals") == [ids["dear"]]
    assert found(text="café") == [ids["cheap"]]  # non-ASCII tag, stored as a JSON \u escape
    assert found(text="%") == [ids["free"]]  # LIKE wildcards in the query are literal
    assert found(category="NEWS", sort="price") == [ids["free"], ids["cheap"]]
    assert found(language="FR") == [ids["dear"]]
    assert found(license="cc-by-4.0", max_price_cents=100, sort="price") == [ids["free"], ids["cheap"]]
    assert found(min_rating=4) == [ids["cheap"]]
    assert found(text="nothing like this") == []
    row = search_listings(as_admin(), text="German").iloc[0]
    assert (row["average_rating"], row["review_count"]) == (4.5, 2)
    assert (row["languages"], row["quality"]) == (["de"], 0.61)
    assert row["package_version"] == "1.0.0" and row["seller_name"] == supplier.display_name
    nothing = search_listings(as_admin(), text="nothing like this")
    assert list(nothing.columns) == list(search_listings(as_admin()).columns)
    with pytest.raises(ListingError, match="Sort must be one of"):
        search_listings(as_admin(), sort="cheapest")


def test_listing_detail_has_package_and_reviews(market):
    listing_id = market["listing"]["id"]
    start_purchase(market["buyer"], listing_id)
    add_review(market["buyer"], listing_id, 4, "  Useful and clean.  ")
    detail = listing_detail(as_admin(), listing_id)
    assert detail["listing"]["seller_name"] == market["supplier"].display_name
    assert detail["package"]["path"] == str(market["root"])
    assert set(detail["package"]["files"]) == set(PACKAGE_FILES)
    assert detail["package"]["metrics"]["languages"] == ["en"]
    assert [(r["rating"], r["text"], r["reviewer"]) for r in detail["reviews"]] == [
        (4, "Useful and clean.", market["buyer"].display_name)]
    assert detail["rating"] == {"average_rating": 4.0, "review_count": 1}
    with pytest.raises(ListingError, match="does not exist"):
        listing_detail(as_admin(), 10**9)


# ---- reviews ---------------------------------------------------------------------------------------------

def test_reviews_only_after_purchase_and_once_per_buyer(sql_url, tmp_path):
    supplier, buyer, stranger = new_user("supplier"), new_user("buyer"), new_user("buyer")
    listing_id = make_listing(supplier, tmp_path / "pkg")["id"]
    with pytest.raises(PermissionDenied, match="paid for"):
        add_review(stranger, listing_id, 5, "never bought it")
    with pytest.raises(PermissionDenied, match="buyer or admin"):
        add_review(supplier, listing_id, 5, "my own")
    start_purchase(buyer, listing_id)
    for bad in (0, 6, 2.5, True, "5"):
        with pytest.raises(ReviewError, match="Rating must be"):
            add_review(buyer, listing_id, bad, "")
    with pytest.raises(ReviewError, match="limit is"):
        add_review(buyer, listing_id, 3, "x" * (MAX_REVIEW_CHARS + 1))
    assert add_review(buyer, listing_id, 3, "ok")["rating"] == 3
    with pytest.raises(ReviewError, match="already reviewed"):
        add_review(buyer, listing_id, 5, "changed my mind")
    assert listing_ratings([listing_id]).to_dict("records") == [
        {"listing_id": listing_id, "average_rating": 3.0, "review_count": 1}]


# ---- download tokens -------------------------------------------------------------------------------------

def test_token_redeems_for_the_buyer_and_records_the_download(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    token = issue_download_token(market["buyer"], sale_id)
    result = redeem_download_token(market["buyer"], token)
    assert result["package_path"] == str(market["root"]) and result["sale_id"] == sale_id
    assert set(result["files"]) == set(PACKAGE_FILES)
    with session_scope() as session:
        [download] = session.exec(select(Download).where(Download.sale_id == sale_id)).all()
        assert (download.user_id, download.token_id) == (market["buyer"].id, result["token_id"])
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "download",
                                                     AuditEvent.user_id == market["buyer"].id)).first()


def test_nobody_downloads_what_they_did_not_buy_but_admin_can(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    other_buyer = new_user("buyer")
    for outsider in (other_buyer, market["supplier"]):
        with pytest.raises(PermissionDenied, match="datasets you bought"):
            issue_download_token(outsider, sale_id)
    buyer_token = issue_download_token(market["buyer"], sale_id)
    with pytest.raises(PermissionDenied, match="another account"):
        redeem_download_token(other_buyer, buyer_token)
    with pytest.raises(PermissionDenied, match="Sign in"):
        redeem_download_token(None, buyer_token)
    admin_token = issue_download_token(market["admin"], sale_id)
    assert redeem_download_token(market["admin"], admin_token)["sale_id"] == sale_id
    assert redeem_download_token(market["admin"], buyer_token)["sale_id"] == sale_id


def test_token_expires(market, monkeypatch):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    token = issue_download_token(market["buyer"], sale_id, ttl_s=60)
    monkeypatch.setattr(tokens, "_now", lambda: time.time() + 50)
    assert redeem_download_token(market["buyer"], token)["sale_id"] == sale_id
    monkeypatch.setattr(tokens, "_now", lambda: time.time() + 62)
    with pytest.raises(DownloadError) as error:
        redeem_download_token(market["buyer"], token)
    assert str(error.value) == EXPIRED
    for bad_ttl in (0, -5, 8 * 86400, 1.5):
        with pytest.raises(DownloadError, match="lives from 1 second"):
            issue_download_token(market["buyer"], sale_id, ttl_s=bad_ttl)


def test_tampered_or_foreign_tokens_are_refused(market, workbench):
    buyer = market["buyer"]
    sale_id = start_purchase(buyer, market["listing"]["id"])["sale_id"]
    token = issue_download_token(buyer, sale_id)
    # rsplit: itsdangerous prefixes a zlib-compressed payload with "." (about 3% of these tokens).
    payload, stamp, signature = token.rsplit(".", 2)
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    forged_claims = {"user": buyer.id, "sale": sale_id, "package": market["listing"]["package_id"],
                     "token_id": "x" * 32, "ttl": 3600}
    forged = URLSafeTimedSerializer("not-the-secret", salt=tokens.TOKEN_SALT).dumps(forged_claims)
    other_salt = URLSafeTimedSerializer(workbench.resolved_secret_key, salt="other").dumps(forged_claims)
    for bad in (f"{flipped}.{stamp}.{signature}", token[:-3], forged, other_salt, "", "garbage"):
        with pytest.raises(DownloadError) as error:
            redeem_download_token(buyer, bad)
        assert str(error.value) == INVALID


def test_revoked_sale_refuses_tokens_issued_before(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    token = issue_download_token(market["buyer"], sale_id)
    revoke_sale(market["admin"], sale_id, reason="buyer asked")
    with pytest.raises(DownloadError, match="was refunded"):
        redeem_download_token(market["buyer"], token)
    with pytest.raises(DownloadError, match="was refunded"):
        issue_download_token(market["buyer"], sale_id)
    other = start_purchase(new_user("buyer"), market["listing"]["id"])["sale_id"]
    other_token = issue_download_token(market["admin"], other)
    revoke_sale(market["admin"], other, "chargeback", reason="card dispute lost")
    with pytest.raises(DownloadError, match="was charged back"):
        redeem_download_token(market["admin"], other_token)


def test_missing_package_files_are_reported(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    token = issue_download_token(market["buyer"], sale_id)
    market["root"].rename(market["root"].with_name("moved"))
    with pytest.raises(DownloadError, match="not available"):
        redeem_download_token(market["buyer"], token)


# ---- archives --------------------------------------------------------------------------------------------

def _rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """A copy of an archive with members replaced (bytes), removed (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in replace:
                target.writestr(name, source.read(name))
        for name, content in replace.items():
            if content is not None:
                target.writestr(name, content)
    return out.getvalue()


def test_archive_round_trip_and_checksum_verification(market):
    sale_id = start_purchase(market["buyer"], market["listing"]["id"])["sale_id"]
    redeemed = redeem_download_token(market["buyer"], issue_download_token(market["buyer"], sale_id))
    archive = package_archive(redeemed["package_path"])
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert sorted(opened.namelist()) == sorted([*PACKAGE_FILES, "manifest.json"])
        assert opened.read("data/items.csv") == PACKAGE_FILES["data/items.csv"]
    assert verify_downloaded_archive(archive) == []
    changed = _rezip(archive, {"data/items.csv": b"id,text\n1,hellO\n2,world\n"})
    assert verify_downloaded_archive(changed) == ["data/items.csv: sha256 mismatch (content changed)"]
    assert verify_downloaded_archive(_rezip(archive, {"README.md": b"short"}))[0].startswith(
        "README.md: size mismatch")
    assert verify_downloaded_archive(_rezip(archive, {"README.md": None})) == [
        "README.md: missing from the archive"]
    assert verify_downloaded_archive(_rezip(archive, {"extra.txt": b"sneaky"})) == [
        "extra.txt: not listed in manifest.json"]
    assert verify_downloaded_archive(_rezip(archive, {"manifest.json": None})) == [
        "manifest.json is missing from the archive"]
    assert "not a complete zip" in verify_downloaded_archive(archive[: len(archive) // 2])[0]
    evil = json.dumps({"files": {"../escape.txt": {"sha256": "0" * 64, "bytes": 1}}}).encode()
    assert "outside the package" in verify_downloaded_archive(_rezip(archive, {"manifest.json": evil}))[0]
    with pytest.raises(DownloadError, match="not available"):
        package_archive(market["root"] / "nope")
