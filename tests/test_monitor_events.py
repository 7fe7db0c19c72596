"""Marketplace monitor: the event logic with planted changes, passes over a demo shop, searches and the inbox,
ownership, exported files for login-only sites, and the scheduler tick."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from monitor_fixtures import kinds_and_paths, run_pass, watched_shop
from principals import as_admin, new_user
from sqlmodel import update

from core.apps.listings.monitor import stats
from core.apps.listings.monitor.changes import Listing, detect_changes
from core.apps.listings.monitor.demo import plant_changes
from core.apps.listings.monitor.exports import ExportError, import_export
from core.apps.listings.monitor.inbox import (
    inbox,
    mark_all_read,
    mark_read,
    open_event,
    pass_events,
    unread_counts,
)
from core.apps.listings.monitor.live import live_listings
from core.apps.listings.monitor.searches import delete_search, list_searches, save_search
from core.apps.listings.monitor.watches import (
    MonitorError,
    delete_watch,
    list_watches,
    run_due,
    run_now,
    save_login_only_source,
    save_watch,
    watch_for,
)
from core.auth import PermissionDenied
from core.sources.demo_web import DemoSites
from core.store import jobs
from core.store.models import User
from core.store.models_listings import MonitorWatch
from core.store.sql import session_scope


# -- the event logic, pure -------------------------------------------------------------------------------
def _listing(key: str, price: float | None = 100.0, title: str = "Gazelle city bike, red", **extra) -> Listing:
    values = {"currency": "EUR", "in_stock": True, "category": "Bicycles", "location": "Utrecht",
              "fields": {"sku": f"MK-{key}"}, **extra}
    return Listing(key=f"/item/{key}.html", url=f"http://shop.example/item/{key}.html", title=title, price=price,
                   **values)


def _known(*listings: Listing) -> dict[str, Listing]:
    return {listing.key: listing for listing in listings}


def test_an_unchanged_pass_yields_no_event_whatever_the_order():
    before = [_listing(str(n), 100.0 + n, title=f"Item number {n}") for n in range(1, 30)]
    shuffled = list(before)
    random.Random(3).shuffle(shuffled)
    assert detect_changes(_known(*before), _known(*shuffled), complete=True) == []


def test_a_price_change_on_a_reordered_page_is_one_price_drop_not_a_new_listing():
    before = [_listing(str(n), 100.0 + n, title=f"Item number {n}") for n in range(1, 30)]
    after = [_listing("7", 85.6, title="Item number 7") if item.key == "/item/7.html" else item for item in before]
    random.Random(5).shuffle(after)
    changes = detect_changes(_known(*before), _known(*after), complete=True)
    assert [(c.kind, c.listing.key) for c in changes] == [("price_drop", "/item/7.html")]
    assert changes[0].old_price == 107.0 and changes[0].new_price == 85.6
    assert changes[0].drop_amount == 21.4 and changes[0].drop_pct == 20.0


def test_a_relist_with_a_changed_title_is_one_relist_event_and_not_gone():
    old = _listing("12", 400.0, title="Gazelle city bike, red", fields={"sku": "MK-000012"})
    other = _listing("13", 90.0, title="Bosch toaster, white", category="Kitchen")
    relisted = _listing("99", 380.0, title="Red Gazelle city bike - reduced, must go!", fields={"sku": "MK-000012"})
    changes = detect_changes(_known(old, other), _known(other, relisted), complete=True)
    assert [(c.kind, c.listing.key) for c in changes] == [("relist", "/item/99.html")]
    assert changes[0].relist_of.key == "/item/12.html" and changes[0].drop_amount == 20.0


def test_new_gone_back_in_stock_and_what_a_partial_pass_may_conclude():
    sold = _listing("3", in_stock=False, title="Canon compact camera, black", category="Cameras")
    staying = _listing("4", 50.0, title="IKEA bookshelf, white", category="Furniture")
    leaving = _listing("5", 70.0, title="Hay office chair, grey", category="Furniture")
    new = _listing("6", 20.0, title="Smeg toaster, red", category="Kitchen")
    restocked = _listing("3", in_stock=True, title="Canon compact camera, black", category="Cameras")
    known = _known(sold, staying, leaving)
    changes = detect_changes(known, _known(restocked, staying, new), complete=True)
    assert [(c.kind, c.listing.key) for c in changes] == [
        ("new", "/item/6.html"), ("back_in_stock", "/item/3.html"), ("gone", "/item/5.html")]
    # A partial crawl proves nothing about absent listings, except those whose page answered 404/410.
    assert detect_changes(known, _known(sold, staying), complete=False) == []
    assert [c.kind for c in detect_changes(known, _known(sold, staying), complete=False,
                                           removed={"/item/5.html"})] == ["gone"]
    # A price rise, a title edit or a different currency is no event.
    edited = [_listing("4", 60.0, title="IKEA bookshelf, white (oak)", category="Furniture"),
              _listing("5", 10.0, title="Hay office chair, grey", category="Furniture", currency="USD")]
    assert detect_changes(_known(staying, leaving), _known(*edited), complete=True) == []
    # A gone listing listed again at the same address is back.
    gone = Listing(**{**leaving.__dict__, "status": "gone"})
    assert [c.kind for c in detect_changes(_known(gone), _known(leaving), complete=True)] == ["back_in_stock"]


# -- passes over the demo shop -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sites(workbench):
    with DemoSites.start(seed=11, scale=0.5) as running:
        yield running


@pytest.fixture()
def shop(sites):
    site = sites.hosts["marketplace"].site
    site.reset_changes()
    yield site
    site.reset_changes()


def test_passes_over_the_demo_shop_report_exactly_the_planted_changes(shop, sites):
    owner = new_user("supplier")
    _, watch = watched_shop(owner, sites, notify_all=True)
    result, events = run_pass(owner, watch["id"])
    assert result["baseline"] and result["listings"] == shop.count and events == []
    assert run_pass(owner, watch["id"])[1] == [], "an unchanged re-scrape yields no event"
    shop.shuffle(4)
    assert run_pass(owner, watch["id"])[1] == [], "a shuffled index yields no event"
    shop.drop_price(10, 0.25)
    shop.shuffle(9)
    result, events = run_pass(owner, watch["id"])
    assert [(e["kind"], e["url"].endswith("/item/10.html")) for e in events] == [("price_drop", True)]
    expected_drop = round(shop.item(10).price - shop.current(10).price, 2)
    assert events[0]["drop_amount"] == pytest.approx(expected_drop) and events[0]["drop_pct"] == pytest.approx(25.0)
    relisted = shop.relist(20, title=f"Relisted: {shop.item(20).title} (price drop)")
    shop.remove(21)
    shop.set_in_stock(22, False)
    events = run_pass(owner, watch["id"])[1]
    assert kinds_and_paths(events) == {("relist", f"/item/{relisted}.html"), ("gone", "/item/21.html")}
    relist = next(e for e in events if e["kind"] == "relist")
    assert relist["relist_of"]["url"].endswith("/item/20.html")
    shop.set_in_stock(22, True)
    planted = plant_changes(shop, random.Random(2))
    events = run_pass(owner, watch["id"])[1]
    expected = {(kind, key) for kind, key in planted if kind != "none"} | {("back_in_stock", "/item/22.html")}
    assert kinds_and_paths(events) == expected
    assert run_pass(owner, watch["id"])[1] == []
    # Every event went to the owner's inbox (they watch every change), each once.
    assert unread_counts(owner)["total"] == 2 + len(expected) + 1
    # Statistics come out of the same passes.
    medians = stats.median_price_by_category(owner)
    assert not medians.empty and (medians["listings"] > 0).all()
    assert stats.time_to_sell(owner)["sold"].sum() >= 2  # sold out or gone
    volume = stats.listing_volume(owner)
    assert volume["on_market"].sum() > 0 and volume["gone"].sum() >= 2 and volume["new"].sum() >= 3


def test_searches_deliver_matching_events_and_nobody_else_sees_them(shop, sites):
    owner, stranger = new_user("supplier"), new_user("supplier")
    name, watch = watched_shop(owner, sites)
    run_pass(owner, watch["id"])
    cheap = save_search(owner, "cheap anything", max_price=100)
    target = next(n for n in shop.listed_numbers() if (shop.current(n).price or 0) > 300)
    item = shop.current(target)
    exact = save_search(owner, "that kind", source=name, category=item.category, words=item.title.split(",")[0],
                        location=item.location)
    shop.drop_price(target, 0.1)
    events = run_pass(owner, watch["id"])[1]
    assert [e["kind"] for e in events] == ["price_drop"]
    assert events[0]["delivered_to"] == [{"user": owner.email, "search": "that kind"}]
    entries = inbox(owner)
    assert len(entries) == 1 and entries[0]["search_id"] == exact["id"] and not entries[0]["read"]
    detail = open_event(owner, entries[0]["id"])
    assert detail["record"]["document"]["url"].endswith(f"/item/{target}.html")
    assert detail["listing"]["price"] == pytest.approx(shop.current(target).price)
    assert unread_counts(owner)["total"] == 0  # opening marks it read
    mark_read(owner, [entries[0]["id"]], read=False)
    assert unread_counts(owner)["price_drop"] == 1 and mark_all_read(owner) == 1
    assert inbox(owner, kinds=["gone"]) == [] and inbox(owner, search_id=cheap["id"]) == []
    live = live_listings(owner, search_id=exact["id"])
    assert any(row["url"].endswith(f"/item/{target}.html") for row in live)
    assert {row["category"] for row in live} == {item.category} and {row["location"] for row in live} == {item.location}
    # Another supplier: none of the owner's searches, events, watches, listings or statistics.
    assert list_searches(stranger) == [] and inbox(stranger) == [] and unread_counts(stranger)["total"] == 0
    assert list_watches(stranger) == [] and live_listings(stranger) == []
    assert stats.median_price_by_category(stranger).empty and stats.time_to_sell(stranger).empty
    for action in (lambda: open_event(stranger, entries[0]["id"]), lambda: watch_for(stranger, watch["id"]),
                   lambda: pass_events(stranger, events[0]["pass_id"]), lambda: delete_search(stranger, exact["id"]),
                   lambda: save_watch(stranger, name), lambda: run_now(stranger, watch["id"]),
                   lambda: delete_watch(stranger, watch["id"]), lambda: save_search(stranger, "x", source=name),
                   lambda: mark_read(new_user("buyer"), [entries[0]["id"]])):
        with pytest.raises(PermissionDenied):
            action()
    assert mark_read(stranger, [entries[0]["id"]]) == 0  # not theirs: nothing changes
    assert inbox(owner)[0]["read"]


def test_a_second_pass_while_one_runs_is_refused(shop, sites):
    from core.apps.listings.monitor.passes import pass_lock

    owner = new_user("supplier")
    _, watch = watched_shop(owner, sites)
    with pass_lock(watch["id"]):
        outcome = jobs.run_foreground("monitor_pass", {"watch_id": watch["id"]}, owner, echo=None)
    assert outcome["status"] == "failed" and "already running" in outcome["error"]
    assert run_pass(owner, watch["id"])[0]["baseline"]


def test_the_tick_submits_due_watches_once_as_their_owner(shop, sites):
    owner = new_user("supplier")
    name, _ = watched_shop(owner, sites)
    watch = save_watch(owner, name, every_minutes=30, enabled=True)
    # Due in the future, so the process's own scheduler thread (started by page tests) leaves it alone.
    now = datetime.now(UTC) + timedelta(days=400)
    with session_scope() as session:
        session.exec(update(MonitorWatch).where(MonitorWatch.id == watch["id"]).values(next_run_at=now))
    submitted = []

    def foreground(kind, params, principal):
        outcome = jobs.run_foreground(kind, params, principal, echo=None)
        submitted.append((principal.id, params, outcome["status"]))
        return outcome["job_id"]

    started = run_due(now, submit=foreground)
    assert (owner.id, {"watch_id": watch["id"]}, "succeeded") in submitted and started
    assert run_due(now, submit=foreground) == [], "a claimed slot does not run twice"
    stored = watch_for(owner, watch["id"])
    assert stored["passes"] == 1 and stored["next_run_at"] >= now + timedelta(minutes=29)
    # An owner who may no longer run it (now a buyer) has the watch disabled, with nothing run.
    with session_scope() as session:
        session.get(User, owner.id).role = "buyer"
    later = now + timedelta(minutes=31)
    submitted.clear()
    run_due(later, submit=foreground)
    assert not [s for s in submitted if s[1] == {"watch_id": watch["id"]}]
    assert not watch_for(as_admin(), watch["id"])["enabled"]


# -- exported files for a site that needs a login ----------------------------------------------------------
def _export(listings: list[dict]) -> bytes:
    return json.dumps({"data": {"marketplace_listings": listings}}).encode()


FB = "https://www.facebook.com/marketplace/item/{}/?ref=search"


def test_exported_files_feed_the_same_pass_logic_and_the_site_is_never_crawled(workbench):
    owner = new_user("supplier")
    name = f"fb-{uuid.uuid4().hex[:6]}"
    save_login_only_source(owner, name, "https://www.facebook.com/marketplace/", "LicenseRef-personal-use")
    watch = save_watch(owner, name, enabled=True, notify_all=True)
    assert watch["needs_login"] and watch["next_run_at"] is None, "a login-only source is never scheduled"
    with pytest.raises(MonitorError, match="needs a login"):
        run_now(owner, watch["id"])
    failed = jobs.run_foreground("scrape", {"sources": [name]}, owner, echo=None)
    assert failed["status"] == "failed" and "never crawled" in failed["error"]
    rows = [{"id": "1001", "marketplace_listing_title": "Trek road bike 56 cm", "listing_price": {
                 "amount": "450", "currency": "EUR"}, "location": {"city": "Utrecht"}, "category": "Bicycles"},
            {"id": "1002", "title": "Sofa, three seats, grey", "price": "€ 120", "location": "Utrecht"},
            {"url": FB.format(1003), "title": "Nikon 50 mm lens", "price": 99, "location": "Amsterdam",
             "is_sold": False}]
    with pytest.raises(ExportError, match="own export"):
        import_export(owner, name, "export.json", _export(rows), attested=False)
    first = import_export(owner, name, "export.json", _export(rows), attested=True)
    assert first["baseline"] and first["listings"] == 3
    assert import_export(owner, name, "export.json", _export(rows), attested=True)["events"] == 0
    changed = [{**rows[0], "listing_price": {"amount": "399", "currency": "EUR"}},
               {"id": "2002", "title": "Grey sofa three seats - must go", "price": "€ 115", "location": "Utrecht"},
               {**rows[2], "is_sold": True},
               {"id": "1004", "title": "Espresso machine", "price": "80 €", "location": "Utrecht"}]
    outcome = import_export(owner, name, "export-2.json", _export(changed), attested=True, complete=True)
    events = pass_events(owner, outcome["pass_id"])
    assert sorted((e["kind"], e["url"]) for e in events) == [
        ("new", "https://www.facebook.com/marketplace/item/1004/"),
        ("price_drop", "https://www.facebook.com/marketplace/item/1001/"),
        ("relist", "https://www.facebook.com/marketplace/item/2002/")]
    # A saved results page (HTML): each link to an item is a card.
    page = ("<html><body>" + "".join(
        f'<a href="/marketplace/item/{i}/?ref=x"><span>{price}</span><span>{title}</span><span>Utrecht</span></a>'
        for i, price, title in (("1001", "€350", "Trek road bike 56 cm"), ("2002", "€115", "Grey sofa three seats"),
                                ("1003", "€99", "Nikon 50 mm lens"), ("1004", "€80", "Espresso machine")))
            + "</body></html>").encode()
    outcome = import_export(owner, name, "results.html", page, attested=True)
    assert [(e["kind"], e["new_price"]) for e in pass_events(owner, outcome["pass_id"])] == [
        ("price_drop", 350.0), ("back_in_stock", 99.0)]
    with pytest.raises(ExportError):
        import_export(owner, name, "notes.txt", b"hello", attested=True)
    stranger = new_user("supplier")
    with pytest.raises(PermissionDenied):
        import_export(stranger, name, "export.json", _export(rows), attested=True)


def test_search_rules_are_checked_on_save(workbench):
    owner = new_user("supplier")
    with pytest.raises(ValueError, match="Name the search"):
        save_search(owner, "  ")
    with pytest.raises(ValueError, match="above the highest"):
        save_search(owner, "backwards", min_price=10, max_price=5)
    with pytest.raises(PermissionDenied):
        save_search(new_user("buyer"), "buyers see nothing raw")
    saved = save_search(owner, "Bikes", words="Gazelle, CITY!")
    assert saved["words"] == "gazelle city" and [s["id"] for s in list_searches(owner)] == [saved["id"]]
    delete_search(owner, saved["id"])
    assert list_searches(owner) == []


def test_a_deleted_source_leaves_a_watch_that_can_be_deleted_but_never_run(workbench):
    from core.sources.registry import delete_source

    owner = new_user("supplier")
    name = f"gone-{uuid.uuid4().hex[:6]}"
    save_login_only_source(owner, name, "https://www.facebook.com/marketplace/")
    watch = save_watch(owner, name, enabled=False)
    delete_source(owner, name)
    listed = next(w for w in list_watches(owner) if w["id"] == watch["id"])
    assert listed["source_missing"]
    with pytest.raises(MonitorError, match="was deleted"):
        run_now(owner, watch["id"])
    with pytest.raises(PermissionDenied):
        delete_watch(new_user("supplier"), watch["id"])
    delete_watch(owner, watch["id"])
    assert [w for w in list_watches(owner) if w["id"] == watch["id"]] == []


def test_statistics_are_computed_in_sql_on_each_store(sql_url):
    """Median price (odd and even counts), volume and time to sell, on SQLite and PostgreSQL alike."""
    from datetime import date

    from core.store.models import Source
    from core.store.models_listings import MonitorEvent, MonitorListing, MonitorPass, MonitorPricePoint

    admin = new_user("admin")
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with session_scope() as session:
        source = Source(name="stats-shop", app="marketplace", kind="listing_index", config={"urls": ["https://x.example/"]},
                        created_by=admin.id)
        session.add(source)
        session.flush()
        watch = MonitorWatch(source_id=source.id, source_name=source.name, owner_id=admin.id, created_by=admin.id)
        session.add(watch)
        session.flush()
        run = MonitorPass(watch_id=watch.id, created_by=admin.id)
        session.add(run)
        prices = {"Bikes": [100.0, 300.0, 200.0], "Phones": [50.0, 70.0, 10.0, 90.0]}
        for category, values in prices.items():
            for position, price in enumerate(values):
                listing = MonitorListing(watch_id=watch.id, key=f"/{category}/{position}", url="https://x.example/",
                                         price=price, currency="EUR", category=category,
                                         days_to_end=float(position + 1) if category == "Bikes" else None)
                session.add(listing)
                session.flush()
                for day in (date(2026, 3, 1), date(2026, 3, 2)):
                    session.add(MonitorPricePoint(watch_id=watch.id, listing_id=listing.id, day=day, price=price,
                                                  currency="EUR", category=category))
                if position == 0:
                    session.flush()
                    session.add(MonitorEvent(watch_id=watch.id, pass_id=run.id, listing_id=listing.id, kind="new",
                                             created_at=moment))
    medians = stats.median_price_by_category(admin)
    assert sorted(zip(medians["category"], medians["median_price"], medians["listings"], strict=True)) == [
        ("Bikes", 200.0, 3), ("Bikes", 200.0, 3), ("Phones", 60.0, 4), ("Phones", 60.0, 4)]
    volume = stats.listing_volume(admin)
    assert volume["on_market"].sum() == 14 and volume["new"].sum() == 2
    assert stats.time_to_sell(admin).to_dict("records") == [{"category": "Bikes", "sold": 3, "median_days": 2.0}]
