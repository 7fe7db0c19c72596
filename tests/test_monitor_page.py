"""The Marketplace monitor page under AppTest: inbox with an event opened, searches saved through the form,
watched sources, live listings and the statistics charts."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, button, page_app, text_input
from monitor_fixtures import run_pass, watched_shop
from principals import as_admin

from core.apps.listings.monitor.inbox import inbox
from core.apps.listings.monitor.searches import list_searches
from core.sources.demo_web import DemoSites

PAGE = "listings_monitor.py"


@pytest.fixture(scope="module")
def monitored(workbench):
    """A demo shop of this module watched by the demo admin (whom page_app signs in), with one price drop."""
    with DemoSites.start(seed=13, scale=0.5) as sites:
        admin = as_admin()
        name, watch = watched_shop(admin, sites, notify_all=True, prefix="page-shop")
        run_pass(admin, watch["id"])
        shop = sites.hosts["marketplace"].site
        shop.drop_price(5, 0.3)
        events = run_pass(admin, watch["id"])[1]
        assert [e["kind"] for e in events] == ["price_drop"]
        yield {"name": name, "watch": watch, "event": events[0]}


def _section(at, name: str):
    at.radio(key="mmon_section").set_value(name).run()
    assert_no_exception(at)
    return at


def test_the_inbox_lists_the_event_and_opens_it_with_its_record(monitored):
    at = page_app(PAGE)
    assert_no_exception(at)
    assert at.title[0].value == "Marketplace monitor"
    unread = next(m for m in at.metric if m.label == "Unread")
    assert int(unread.value) >= 1
    assert at.dataframe, "the inbox table"
    entry = next(e for e in inbox(as_admin()) if e["event_id"] == monitored["event"]["event_id"])
    at.selectbox(key="mmon_open").set_value(entry["id"]).run()
    assert_no_exception(at)
    shown = " ".join(h.value for h in at.subheader) + " ".join(m.value for m in at.markdown)
    assert "Price drop" in shown and monitored["event"]["title"] in shown
    assert "down" in shown and "30.0%" in shown
    assert next(e for e in inbox(as_admin()) if e["id"] == entry["id"])["read"], "opening marks it read"


def test_a_search_is_saved_through_the_form(monitored):
    at = _section(page_app(PAGE), "Searches")
    text_input(at, "Search name").input("Cheap cameras")
    text_input(at, "Category").input("Cameras")
    at.number_input[1].set_value(300.0)
    button(at, "Save search").click().run()
    assert_no_exception(at)
    saved = next(s for s in list_searches(as_admin()) if s["name"] == "Cheap cameras")
    assert saved["category"] == "Cameras" and saved["max_price"] == 300.0
    assert any("saved" in s.value for s in at.success)


def test_watched_sources_live_listings_and_statistics_render(monitored):
    at = _section(page_app(PAGE), "Watched sources")
    assert any(monitored["name"] in str(df.value) for df in at.dataframe)
    assert [b for b in at.button if b.label == "Run a pass now"]
    at = _section(at, "Live listings")
    assert at.dataframe and "listing(s) on the market now" in " ".join(c.value for c in at.caption)
    at = _section(at, "Statistics")
    assert len(at.get("plotly_chart")) == 3
