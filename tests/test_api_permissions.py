"""The API permission walk: every route, called by a buyer, another supplier, no key and a revoked key, on
things another supplier owns. The same ownership rules as the pages: never a 2xx that acts on or shows them."""

from __future__ import annotations

import json
import uuid

import pytest
from api_helpers import ApiClient, client_for, running_api
from principals import new_user
from refine_fixtures import article_text

from core.api.app import create_app
from core.api.keys import create_api_key, revoke_api_key
from core.market.checkout import start_purchase
from core.market.listings import create_listing
from core.market.tokens import issue_download_token
from core.sources.ingest import ingest_upload
from core.sources.registry import save_source
from core.store.jobs import run_foreground

DENIED = {403, 404}


@pytest.fixture(scope="module")
def owned(workbench):
    """Everything a supplier can own, plus a buyer's purchase of it, made through the core functions."""
    owner, purchaser = new_user("supplier"), new_user("buyer")
    name = f"walk-{uuid.uuid4().hex[:8]}"
    data = "\n".join(json.dumps({"text": article_text(i)}) for i in range(12)).encode()
    ingest_upload(owner, "docs.jsonl", data, app="uploads", dataset=name, license="CC-BY-4.0", origin="enterprise",
                  attested=True)
    refined = run_foreground("refine", {"dataset": name}, owner, echo=None)
    packaged = run_foreground("package", {"dataset": name, "title": f"Walk {name}", "license": "CC-BY-4.0"},
                              owner, echo=None)
    assert refined["status"] == packaged["status"] == "succeeded", (refined, packaged)
    package_id = packaged["result"]["package_id"]
    listing = create_listing(owner, package_id, f"Walk listing {name}", price_cents=100)
    sale = start_purchase(purchaser, listing["id"])
    source = save_source(owner, f"src-{name}", "news", "feed", {"urls": ["https://example.org/feed.xml"]})
    return {"owner": owner, "name": name, "run": refined["result"]["run_id"], "package": package_id,
            "listing": listing["id"], "sale": sale["sale_id"], "source": source["name"], "job": refined["job_id"],
            "token": issue_download_token(purchaser, sale["sale_id"]),
            "owner_key": create_api_key(owner, "walk")["id"]}


def routes(o: dict) -> list[tuple[str, str, dict, set, set]]:
    """(method, path template, request kwargs, statuses for another supplier, statuses for a buyer who did not
    buy)."""
    upload = {"params": {"filename": "more.jsonl", "license": "CC-BY-4.0", "attest": "true"},
              "data": json.dumps({"text": article_text(99)}).encode()}
    return [
        ("GET", "/me", {}, {200}, {200}),
        ("GET", "/api-keys", {}, {200}, {200}),
        ("POST", "/api-keys", {"json": {"name": "walk"}}, {201}, {201}),
        ("DELETE", "/api-keys/{key_id}", {}, {404}, {404}),
        ("GET", "/datasets", {}, {200}, {403}),
        ("GET", "/datasets/{name}", {}, {404}, {403}),
        ("GET", "/datasets/{name}/items", {}, {404}, {403}),
        ("POST", "/datasets/{name}/uploads", upload, DENIED, {403}),
        ("GET", "/sources", {}, {200}, {403}),
        ("GET", "/sources/{source}", {}, {404}, {403}),
        ("PUT", "/sources/{source}", {"json": {"app": "news", "kind": "feed",
                                                      "config": {"urls": ["https://example.org/x.xml"]}}},
         DENIED, {403}),
        ("DELETE", "/sources/{source}", {}, {404}, {403}),
        ("POST", "/scrape-jobs", {"json": {"sources": [o["source"]]}}, {404}, {403}),
        ("POST", "/datasets/{name}/refinements", {"json": {}}, {404}, {403}),
        ("GET", "/runs", {}, {200}, {403}),
        ("GET", "/runs/{run_id}", {}, {404}, {403}),
        ("GET", "/runs/{run_id}/decisions", {}, {404}, {403}),
        ("POST", "/datasets/{name}/packages", {"json": {"title": "Stolen", "license": "CC-BY-4.0"}},
         {404}, {403}),
        ("GET", "/packages", {}, {200}, {403}),
        ("GET", "/packages/{package_id}", {}, {404}, {403}),
        ("GET", "/packages/{package_id}/files/{file_path}", {}, {404}, {403}),
        ("GET", "/packages/{package_id}/quality-report", {}, {404}, {403}),
        ("GET", "/packages/{package_id}/supplier-return", {}, {404}, {403}),
        ("GET", "/listings", {}, {200}, {200}),
        ("POST", "/listings", {"json": {"package_id": o["package"], "title": "Resold"}}, {403}, {403}),
        ("GET", "/listings/{listing_id}", {}, {200}, {200}),
        ("POST", "/listings/{listing_id}/unlist", {}, {403}, {403}),
        ("POST", "/listings/{listing_id}/relist", {}, {403}, {403}),
        ("PUT", "/listings/{listing_id}/tiers", {"json": [{"name": "cheap", "license": "CC-BY-4.0",
                                                           "price_cents": 0}]}, {403}, {403}),
        ("GET", "/sales-analytics", {}, {200}, {403}),
        ("GET", "/purchases", {}, {200}, {200}),
        ("POST", "/purchases/{sale_id}/download-tokens", {"json": {}}, {403}, {403}),
        ("GET", "/downloads/{token}", {}, {403}, {403}),
        ("GET", "/listings/{listing_id}/reviews", {}, {200}, {200}),
        ("POST", "/listings/{listing_id}/reviews", {"json": {"rating": 1}}, {403}, {403}),
        ("GET", "/models", {}, {200}, {403}),
        ("GET", "/models/{model}", {}, {404}, {403}),
        ("POST", "/models/{model}/predictions", {"json": {"rows": [{"text": "x"}]}}, {404}, {403}),
        ("POST", "/models/{model}/score-jobs", {"json": {"dataset": o["name"]}}, {404}, {403}),
        ("GET", "/predictions", {}, {200}, {403}),
        ("GET", "/jobs", {}, {200}, {200}),
        ("GET", "/jobs/{job_id}", {}, {404}, {404}),
        ("POST", "/jobs/{job_id}/cancel", {}, {404}, {404}),
        # Last: a buyer may buy a listed dataset (a supplier may not); it changes what the buyer owns.
        ("POST", "/listings/{listing_id}/purchase", {}, {403}, {200}),
    ]


def path_values(o: dict) -> dict:
    return {"name": o["name"], "source": o["source"], "run_id": o["run"], "package_id": o["package"],
            "listing_id": o["listing"], "sale_id": o["sale"], "token": o["token"], "job_id": o["job"],
            "key_id": o["owner_key"], "file_path": "data/data.jsonl", "model": "walk-model"}


def calls(o: dict):
    values = path_values(o)
    for method, template, kwargs, other_expected, buyer_expected in routes(o):
        yield method, template.format(**values), kwargs, other_expected, buyer_expected


def test_the_walk_covers_every_route(owned):
    declared = {(method.upper(), path) for path, operations in create_app().openapi()["paths"].items()
                for method in operations}
    walked = {(method, template.replace("{source}", "{name}").replace("{model}", "{name}"))
              for method, template, *_ in routes(owned)}
    assert declared == walked


@pytest.fixture(scope="module")
def api(workbench):
    with running_api(rate_per_minute=100_000, rate_burst=100_000) as base_url:
        yield base_url


def test_no_key_and_revoked_key_are_refused_everywhere(api, owned):
    revoked_owner = new_user("supplier")
    key = create_api_key(revoked_owner, "soon revoked")
    revoke_api_key(revoked_owner, key["id"])
    for client in (ApiClient(api, None), ApiClient(api, key["key"]), ApiClient(api, "dbw_" + "A" * 43)):
        for method, path, kwargs, _, _ in calls(owned):
            response = client.request(method, path, **kwargs)
            assert response.status_code == 401, (method, path, response.status_code, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_another_supplier_and_a_buyer_get_nothing_of_the_owners(api, owned):
    other, stranger = client_for(api, new_user("supplier")), client_for(api, new_user("buyer"))
    owner_markers = [owned["name"], owned["source"], f"Walk {owned['name']}"]
    for method, path, kwargs, other_expected, buyer_expected in calls(owned):
        for who, client, expected in (("other supplier", other, other_expected),
                                      ("buyer", stranger, buyer_expected)):
            response = client.request(method, path, **kwargs)
            assert response.status_code in expected, (who, method, path, response.status_code, response.text)
            if method == "GET" and response.status_code == 200 and path in ("/datasets", "/sources", "/runs",
                                                                              "/packages", "/jobs", "/purchases",
                                                                              "/predictions"):
                assert not any(marker in response.text for marker in owner_markers), (who, path)
                assert response.json() in ([], {"total": 0, "offset": 0, "limit": 100, "predictions": []}), (
                    who, path, response.text[:300])
            if method == "GET" and path == "/api-keys":
                assert owned["owner_key"] not in [key["id"] for key in response.json()]
    # Nothing of the owner's changed: the dataset still has its 12 items and the source is still there.
    owner = client_for(api, owned["owner"])
    assert owner.get(f"/datasets/{owned['name']}/items").json()["total"] == 12
    assert owner.get(f"/sources/{owned['source']}").status_code == 200
    assert owner.get(f"/listings/{owned['listing']}").json()["listing"]["status"] == "listed"
