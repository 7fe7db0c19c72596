"""Tenancy walk: every core entry point and every page, as a buyer, as another supplier and signed out.

Supplier 1 owns a source, an uploaded dataset (with personal data in it), a refinement run, a package
and a listing. Nobody else but an admin may read or change any of it: core functions refuse
(PermissionDenied) or, for listings of "what is mine", leave supplier 1's things out. Each case here
reproduces a hole found on the code before the ownership model (issue 11).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from principals import as_admin, new_user
from refine_fixtures import article_text
from streamlit.testing.v1 import AppTest

from core import explore, status
from core.auth import PermissionDenied
from core.market.listings import create_listing, unlist
from core.packaging.build import PackageRequest, build_package, list_packages, package_detail
from core.refine import runs
from core.refine.service import cached_signals, dataset_signals, refine_dataset
from core.sources import registry
from core.sources.ingest import ingest_upload
from core.store import jobs
from core.store.models import User
from core.store.sql import session_scope

ROOT = Path(__file__).resolve().parent.parent
SECRET_EMAIL = "owner.private@example.org"
# Every page but the sign-in page and the Marketplace is for suppliers and admins (new pages included).
# account.py serves every signed-in role (buyers' API keys too); tests/test_account_page.py walks it.
SUPPLIER_PAGES = tuple(sorted(p.name for p in (ROOT / "pages").glob("*.py")
                              if not p.name.startswith("_")
                              and p.name not in ("sign_in.py", "marketplace.py", "account.py")))


@pytest.fixture(scope="module")
def world(workbench):
    """Supplier 1's source, dataset, raw records, run, package and listing; another supplier; a buyer."""
    owner, intruder, buyer = new_user("supplier"), new_user("supplier"), new_user("buyer")
    onlooker = new_user("supplier")  # another supplier who only browses (the intruder's own job errors name things)
    tag = uuid.uuid4().hex[:8]
    source = registry.save_source(owner, f"owner-src-{tag}", "news", "feed",
                                  {"urls": ["https://news.example.org/feed.xml"]}, license="CC-BY-4.0")
    dataset = f"owner-ds-{tag}"
    texts = [article_text(i) for i in range(12)] + [f"Write to {SECRET_EMAIL} for the list. " + article_text(20)]
    data = "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)).encode()
    ingest_upload(owner, "private.jsonl", data, app="uploads", dataset=dataset, license="CC-BY-4.0",
                  origin="enterprise", attested=True)
    run = refine_dataset(owner, dataset)
    package = build_package(owner, PackageRequest(dataset=dataset, title=f"Owner pack {tag}", license="CC-BY-4.0"))
    listing = create_listing(owner, package["package_id"], f"Owner listing {tag}", "", [], "news", 0, "usd")
    raw_ids = explore.raw_page(owner, "uploads", explore.RawFilter(source_id=f"upload:{dataset}"))[0]["id"].tolist()
    job_id = jobs.run_foreground("signals", {"dataset": dataset}, owner, echo=None)["job_id"]
    return {"owner": owner, "intruder": intruder, "buyer": buyer, "onlooker": onlooker, "source": source["name"],
            "dataset": dataset, "run_id": run["run_id"], "package_id": package["package_id"],
            "package_name": package["name"], "listing_id": listing["id"], "raw_ids": raw_ids, "job_id": job_id}


OUTSIDERS = ("intruder", "buyer", None)


def _who(world, outsider):
    return world[outsider] if outsider else None


def _actions(w):
    """Every core call that reads one of the owner's things by name or id, or changes it."""
    upload_args = dict(app="uploads", dataset=w["dataset"], license="CC-BY-4.0", origin="web", attested=True)
    return {
        "save over the owner's source": lambda p: registry.save_source(
            p, w["source"], "news", "feed", {"urls": ["https://evil.example/feed"]}),
        "read the owner's source": lambda p: registry.get_source(p, w["source"]),
        "delete the owner's source": lambda p: registry.delete_source(p, w["source"]),
        "upload into the owner's dataset": lambda p: ingest_upload(p, "x.jsonl", b'{"text": "planted"}\n',
                                                                   **upload_args),
        "delete the owner's raw records": lambda p: explore.delete_records(p, "uploads", w["raw_ids"][:1]),
        "label the owner's raw records": lambda p: explore.label_records(p, "uploads", w["raw_ids"][:1], "bad"),
        "compute signals of the owner's dataset": lambda p: dataset_signals(p, w["dataset"]),
        "read the owner's cached signals": lambda p: cached_signals(p, w["dataset"]),
        "refine the owner's dataset": lambda p: refine_dataset(p, w["dataset"]),
        "read the owner's run": lambda p: runs.run_detail(p, w["run_id"]),
        "read the owner's run tables": lambda p: runs.run_tables(p, w["run_id"]),
        "package the owner's dataset": lambda p: build_package(
            p, PackageRequest(dataset=w["dataset"], title=f"Stolen {uuid.uuid4().hex[:6]}", license="CC-BY-4.0")),
        "open the owner's package": lambda p: package_detail(p, w["package_id"]),
        "list the owner's package for sale": lambda p: create_listing(p, w["package_id"], "Resold", "", [], "", 0,
                                                                      "usd"),
        "unlist the owner's listing": lambda p: unlist(p, w["listing_id"]),
        "stop the owner's job": lambda p: jobs.request_cancel(p, w["job_id"]),
    }


def _reads(w):
    """Calls that list "what is mine": refused to buyers and strangers, empty of the owner's things for others."""
    return {
        "raw page": lambda p: explore.raw_page(p, "uploads", page_size=500)[0]["id"].tolist(),
        "raw export": lambda p: explore.export_bytes(p, "uploads", explore.RawFilter(), "jsonl").decode(),
        "raw sources": lambda p: explore.source_ids(p, "uploads"),
        "record detail": lambda p: explore.record_detail(p, "uploads", w["raw_ids"][0]),
        "sources": lambda p: [s["name"] for s in registry.list_sources(p)],
        "datasets": lambda p: [d["name"] for d in runs.list_datasets(p)],
        "runs": lambda p: runs.list_runs(p)["run_id"].tolist(),
        "items": lambda p: runs.items_by_ids(p, runs.run_tables(as_admin(), w["run_id"])["id"].tolist())["id"]
        .tolist(),
        "packages": lambda p: list_packages(p)["package_id"].tolist(),
        "status": lambda p: status.workbench_status(p, job_limit=500),
    }


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_core_refuses_every_action_on_the_owners_things(world, outsider):
    principal = _who(world, outsider)
    for name, action in _actions(world).items():
        with pytest.raises(PermissionDenied):
            action(principal)
            pytest.fail(f"{outsider or 'signed out'} could {name}")
    # Nothing changed: the owner still has every record, the source and the listing.
    owner = world["owner"]
    assert registry.get_source(owner, world["source"])["config"]["urls"] == ["https://news.example.org/feed.xml"]
    assert all(explore.record_detail(owner, "uploads", r) for r in world["raw_ids"])


@pytest.mark.parametrize("outsider", ("buyer", None))
def test_buyers_and_strangers_cannot_list_anything_raw(world, outsider):
    for name, read in _reads(world).items():
        with pytest.raises(PermissionDenied):
            read(_who(world, outsider))
            pytest.fail(f"{outsider or 'signed out'} could read {name}")


def test_another_supplier_sees_none_of_the_owners_things(world):
    intruder, owner_values = world["intruder"], world
    seen = {name: read(intruder) for name, read in _reads(world).items()}
    assert not set(seen["raw page"]) & set(owner_values["raw_ids"])
    assert SECRET_EMAIL not in seen["raw export"]
    assert f"upload:{world['dataset']}" not in seen["raw sources"]
    assert seen["record detail"] is None
    assert world["source"] not in seen["sources"] and world["dataset"] not in seen["datasets"]
    assert world["run_id"] not in seen["runs"] and world["package_id"] not in seen["packages"]
    assert seen["items"] == []
    assert seen["status"]["counts"]["raw"] == 0 and "url" not in seen["status"]["sql"]
    # ...while the owner and an admin see all of it.
    for principal in (world["owner"], as_admin()):
        assert world["dataset"] in [d["name"] for d in runs.list_datasets(principal)]
        assert set(world["raw_ids"]) <= set(explore.raw_page(principal, "uploads", page_size=1000)[0]["id"])
        assert SECRET_EMAIL in explore.export_bytes(principal, "uploads", explore.RawFilter(
            source_id=f"upload:{world['dataset']}"), "jsonl").decode()


@pytest.mark.parametrize("outsider", ("intruder", "buyer"))
def test_jobs_of_others_are_invisible(world, outsider):
    principal = world[outsider]
    assert jobs.get_job(principal, world["job_id"]) is None
    assert world["job_id"] not in [j["id"] for j in jobs.recent_jobs(principal, limit=500)]
    assert jobs.get_job(None, world["job_id"]) is None
    with pytest.raises(PermissionDenied):
        jobs.recent_jobs(None)


def test_a_stolen_name_cannot_append_to_or_shadow_the_owners_things(world):
    intruder = world["intruder"]
    with pytest.raises(PermissionDenied, match="taken by another supplier"):
        ingest_upload(intruder, "y.jsonl", b'{"text": "mine now"}\n', app="uploads", dataset=world["dataset"],
                      license="MIT", origin="web", attested=True)
    # A package title that slugs to the owner's package name would have become its next version.
    own = f"intruder-ds-{uuid.uuid4().hex[:6]}"
    ingest_upload(intruder, "z.jsonl", "\n".join(json.dumps({"text": article_text(i)}) for i in range(8)).encode(),
                  app="uploads", dataset=own, license="CC-BY-4.0", origin="web", attested=True)
    refine_dataset(intruder, own)
    from core.packaging.writer import PackageBuildError

    with pytest.raises(PackageBuildError, match="taken by another supplier"):
        build_package(intruder, PackageRequest(dataset=own, title=world["package_name"].replace("-", " "),
                                               license="CC-BY-4.0"))


def test_jobs_check_the_role_when_created_and_again_when_they_run(world):
    with pytest.raises(PermissionDenied):
        jobs.submit("scrape", {"sources": [world["source"]]}, world["buyer"])
    with pytest.raises(PermissionDenied):
        jobs.submit("refine", {"dataset": world["dataset"]}, None)
    # Another supplier's job naming the owner's things is created (names are not secret) but refused at run.
    outcome = jobs.run_foreground("scrape", {"sources": [world["source"]]}, world["intruder"], echo=None)
    assert outcome["status"] == "failed" and "source named" in outcome["error"]
    outcome = jobs.run_foreground("refine", {"dataset": world["dataset"]}, world["intruder"], echo=None)
    assert outcome["status"] == "failed" and "dataset named" in outcome["error"]
    # A supplier demoted to buyer between submitting and the job starting: the runner re-reads the role.
    demoted = new_user("supplier")
    job_id = jobs.create_job("signals", {"dataset": world["dataset"]}, demoted)
    with session_scope() as session:
        session.get(User, demoted.id).role = "buyer"
    outcome = jobs.execute(job_id)
    assert outcome["status"] == "failed" and "signals jobs" in outcome["error"]


# -- pages ------------------------------------------------------------------------------------------
def _page_as(page: str, principal) -> AppTest:
    """A page script run on its own (as when opened by URL), with `principal` signed in (or nobody)."""
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    if principal is not None:
        at.session_state["auth_user"] = principal.as_dict()
    return at.run()


def _rendered_text(at: AppTest) -> str:
    """Everything a page put on screen as text: messages, metrics, options and table cells."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "code"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("selectbox", "multiselect", "radio"):
        parts += [" ".join(map(str, element.options)) for element in getattr(at, kind)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize("page", SUPPLIER_PAGES)
@pytest.mark.parametrize("outsider", ("buyer", None))
def test_supplier_pages_refuse_buyers_and_strangers(world, page, outsider):
    at = _page_as(page, _who(world, outsider))
    assert not at.exception, [e.value for e in at.exception]
    expected = "you are signed in as a buyer" if outsider else "Sign in to use this page"
    assert expected in " ".join(w.value for w in at.warning)
    assert not at.dataframe and not at.button and not at.text_input


def test_marketplace_needs_a_signed_in_user(world):
    at = _page_as("marketplace.py", None)
    assert "Sign in to use this page" in " ".join(w.value for w in at.warning) and not at.dataframe


def test_navigation_offers_a_buyer_only_the_marketplace(world):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["auth_user"] = world["buyer"].as_dict()
    at.run()
    for page in SUPPLIER_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}")


@pytest.mark.parametrize("page", (*SUPPLIER_PAGES, "marketplace.py"))
def test_another_supplier_sees_none_of_the_owners_things_on_any_page(world, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["auth_user"] = world["onlooker"].as_dict()
    at.run()
    if page != "overview.py":
        at.switch_page(f"pages/{page}")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = _rendered_text(at)
    for secret in (world["dataset"], world["source"], SECRET_EMAIL, f"run {world['run_id']} "):
        assert secret not in text, f"{page} shows {secret!r} to another supplier"
    if page == "marketplace.py":  # the listing is public, but the owner's package is not theirs to list
        assert world["package_name"] not in " ".join(" ".join(map(str, s.options)) for s in at.selectbox)


def test_demo_sources_belong_to_whoever_scrapes_them_first(sql_url):
    from core.sources.jobs import register_demo_sources

    first, second, admin = new_user("supplier"), new_user("supplier"), new_user("admin")
    names = register_demo_sources(first)
    assert {registry.get_source(first, n)["created_by"] for n in names} == {first.id}
    with pytest.raises(PermissionDenied, match="first scraped them"):
        register_demo_sources(second)
    assert register_demo_sources(admin) == names  # an admin may refresh them; the owner stays the same
    assert {registry.get_source(admin, n)["created_by"] for n in names} == {first.id}


# A script file, not AppTest.from_function: a function script becomes __main__ of the test process, and the
# refine worker processes that later tests start would try to re-run it.
SIGN_OUT_SCRIPT = """
import streamlit as st

from pages._ui import sign_out

if st.button("Sign out"):
    sign_out()
"""


def test_sign_out_forgets_the_previous_users_working_state(world, tmp_path):
    script = tmp_path / "sign_out_button.py"
    script.write_text(SIGN_OUT_SCRIPT)
    at = AppTest.from_file(str(script), default_timeout=30)
    at.session_state["auth_user"] = world["owner"].as_dict()
    at.session_state["rawx_export_data"] = ("jsonl", SECRET_EMAIL.encode())  # a prepared export
    at.session_state["pkg_job"] = world["job_id"]
    at.session_state["ref_run_job_news"] = world["job_id"]  # a Refine job panel
    at.session_state["mkt_open"] = world["listing_id"]  # the listing open on the Marketplace
    at.session_state["working_state"] = {"dataset": "news", "run": 1}  # what follows the user across pages
    at.run()
    at.button[0].click().run()
    assert not at.exception
    for key in ("auth_user", "rawx_export_data", "pkg_job", "ref_run_job_news", "mkt_open", "working_state"):
        assert key not in at.session_state


def test_listing_detail_shows_samples_but_no_server_path_to_visitors(world):
    from core.market.listings import listing_detail

    for visitor in (world["buyer"], world["onlooker"]):
        detail = listing_detail(visitor, world["listing_id"])
        assert "path" not in detail["package"]
        assert detail["sample"] and detail["card"]
    assert listing_detail(world["owner"], world["listing_id"])["package"]["path"]
