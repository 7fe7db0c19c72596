"""The REST API end to end against a live server: upload -> refine -> package -> list -> buy -> download ->
review, plus keys, problems, rate limits and paging."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from api_helpers import client_for, running_api, wait_for_job
from principals import new_user
from refine_fixtures import article_text

from core.api.keys import create_api_key, principal_for_key, revoke_api_key
from core.api.ratelimit import TokenBuckets
from core.market.downloads import verify_downloaded_archive


@pytest.fixture(scope="module")
def api(workbench):
    with running_api(rate_per_minute=100_000, rate_burst=100_000) as base_url:
        yield base_url


def _jsonl(texts: list[str]) -> bytes:
    return "\n".join(json.dumps({"title": f"Doc {i}", "text": t}) for i, t in enumerate(texts)).encode() + b"\n"


def test_upload_refine_package_list_buy_download_review(api):
    supplier, buyer = client_for(api, new_user("supplier")), client_for(api, new_user("buyer"))
    dataset = f"api-flow-{uuid.uuid4().hex[:8]}"
    body = _jsonl([article_text(i) for i in range(30)]) + b"{not json\n"
    upload = supplier.post(f"/datasets/{dataset}/uploads", data=body,
                           params={"filename": "docs.jsonl", "license": "CC-BY-4.0", "attest": "true"},
                           headers={"Content-Type": "application/octet-stream"})
    assert upload.status_code == 200, upload.text
    report = upload.json()
    assert report["new"] == 30 and report["rejected_count"] == 1 and report["rejected"][0]["line"] == 31
    again = supplier.post(f"/datasets/{dataset}/uploads", data=body,
                          params={"filename": "docs.jsonl", "license": "CC-BY-4.0", "attest": "true"}).json()
    assert again["new"] == 0 and again["already_present"] == 30

    items = supplier.get(f"/datasets/{dataset}/items", params={"offset": 25, "limit": 10}).json()
    assert items["total"] == 30 and len(items["items"]) == 5

    job = supplier.post(f"/datasets/{dataset}/refinements", json={}).json()
    finished = wait_for_job(supplier, job["id"])
    assert finished["status"] == "succeeded", finished
    run_id = finished["result"]["run_id"]
    run = supplier.get(f"/runs/{run_id}").json()
    assert run["dataset"] == dataset and run["input"] == 30 and run["kept"] + run["dropped"] == 30
    decisions = supplier.get(f"/runs/{run_id}/decisions", params={"limit": 7}).json()
    assert decisions["total"] == 30 and len(decisions["decisions"]) == 7

    build = supplier.post(f"/datasets/{dataset}/packages",
                          json={"title": f"API flow {dataset}", "license": "CC-BY-4.0", "run_id": run_id}).json()
    built = wait_for_job(supplier, build["id"])
    assert built["status"] == "succeeded", built
    package = next(p for p in supplier.get("/packages", params={"dataset": dataset}).json())
    assert package["status"] == "published" and any(f["path"] == "data/data.jsonl" for f in package["files"])
    one_file = supplier.get(f"/packages/{package['id']}/files/data/data.jsonl")
    assert one_file.status_code == 200 and one_file.content.count(b"\n") == run["kept"]

    listing = supplier.post("/listings", json={"package_id": package["id"], "title": f"Articles {dataset}",
                                               "price_cents": 500, "tags": ["news"]})
    assert listing.status_code == 201, listing.text
    listing_id = listing.json()["id"]
    found = buyer.get("/listings", params={"text": dataset}).json()
    assert [row["listing_id"] for row in found] == [listing_id]

    bought = buyer.post(f"/listings/{listing_id}/purchase")
    assert bought.status_code == 200 and bought.json()["status"] == "paid", bought.text
    sale_id = bought.json()["sale_id"]
    assert buyer.post(f"/listings/{listing_id}/purchase").json()["status"] == "already owned"
    assert [s["sale_id"] for s in buyer.get("/purchases").json()] == [sale_id]

    token = buyer.post(f"/purchases/{sale_id}/download-tokens", json={"ttl_s": 600}).json()
    download = buyer.get(token["download_path"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert verify_downloaded_archive(download.content) == []
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()

    review = buyer.post(f"/listings/{listing_id}/reviews", json={"rating": 4, "text": "Clean articles."})
    assert review.status_code == 201, review.text
    detail = buyer.get(f"/listings/{listing_id}").json()
    assert detail["review_count"] == 1 and detail["average_rating"] == 4.0
    again = buyer.post(f"/listings/{listing_id}/reviews", json={"rating": 5})
    assert again.status_code == 400 and again.headers["content-type"] == "application/problem+json"


def test_problems_have_one_shape_and_bad_input_is_4xx(api):
    supplier = client_for(api, new_user("supplier"))
    for response, status in [
        (supplier.get("/datasets/nope-does-not-exist"), 404),
        (supplier.get("/runs/not-a-number"), 422),
        (supplier.post("/listings", json={"package_id": "x"}), 422),
        (supplier.post("/datasets/x/uploads", params={"filename": "a.csv", "license": "MIT", "attest": "false"},
                       data=b"a\n1\n"), 400),
        (supplier.post("/datasets/../uploads", params={"filename": "a.csv", "license": "MIT", "attest": "true"},
                       data=b"a\n1\n"), 404),
        (supplier.post("/datasets/bad name!/uploads", data=b"a\n1\n",
                       params={"filename": "a.csv", "license": "MIT", "attest": "true"}), 422),
        (supplier.post("/datasets/a..b/uploads", data=b"a\n1\n",
                       params={"filename": "a.csv", "license": "MIT", "attest": "true"}), 400),
        (supplier.post("/datasets/ok-name/uploads", data=b"a\n1\n",
                       params={"filename": "a.csv", "license": "not-a-licence", "attest": "true"}), 400),
        (supplier.get("/datasets", params={"limt": "5"}), 422),
        (supplier.get("/runs/99999999999999999999"), 422),
        (supplier.post("/datasets/x/refinements", json={"recipe_yaml": "rules: [1"}), 404),
        (supplier.get("/nowhere"), 404),
    ]:
        assert response.status_code == status, (response.request.url, response.text)
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert set(problem) == {"type", "title", "status", "detail"} and problem["status"] == status


def test_upload_body_over_the_limit_is_refused_before_ingest(api, monkeypatch):
    supplier = client_for(api, new_user("supplier"))
    monkeypatch.setattr("core.api.routes_datasets.upload_limit_bytes", lambda: 1000)
    dataset = f"api-big-{uuid.uuid4().hex[:8]}"
    response = supplier.post(f"/datasets/{dataset}/uploads", data=b"x" * 5000,
                             params={"filename": "big.txt", "license": "MIT", "attest": "true"})
    assert response.status_code == 413 and "1,000" in response.json()["detail"]
    assert supplier.get(f"/datasets/{dataset}").status_code == 404  # nothing was created


def test_upload_larger_than_the_browser_limit_streams(api, monkeypatch):
    from core.config import get_settings

    monkeypatch.setattr(get_settings(), "upload_max_mb", 1)  # the browser's limit; the API streams past it
    supplier = client_for(api, new_user("supplier"))
    dataset = f"api-large-{uuid.uuid4().hex[:8]}"
    body = _jsonl([f"{article_text(i)} Copy {i}." for i in range(1200)])
    assert len(body) > 1024 * 1024

    def chunks():  # sent chunked, without a Content-Length: the server must count while spooling
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    response = supplier.post(f"/datasets/{dataset}/uploads", data=chunks(),
                             params={"filename": "large.jsonl", "license": "CC0-1.0", "attest": "true"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["streamed"] is True and report["new"] == 1200 and report["rejected_count"] == 0
    assert supplier.get(f"/datasets/{dataset}/items", params={"limit": 1}).json()["total"] == 1200


def test_keys_are_hashed_revocable_and_shown_once(workbench):
    owner = new_user("supplier")
    created = create_api_key(owner, "laptop")
    assert created["key"].startswith("dbw_") and created["prefix"] == created["key"][:12]
    from sqlmodel import select

    from core.store.models_api import ApiKey
    from core.store.sql import session_scope

    with session_scope() as session:
        stored = session.exec(select(ApiKey).where(ApiKey.id == created["id"])).one()
        assert created["key"] not in stored.key_hash and len(stored.key_hash) == 64
    assert principal_for_key(created["key"])[0].id == owner.id
    assert principal_for_key(created["key"] + "x") is None
    revoke_api_key(owner, created["id"])
    assert principal_for_key(created["key"]) is None


def test_rate_limit_answers_429_with_retry_after(workbench):
    with running_api(rate_per_minute=60, rate_burst=3) as base_url:
        client = client_for(base_url, new_user("buyer"))
        statuses = [client.get("/me").status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        limited = client.get("/me")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["status"] == 429


def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert [buckets.take(1), buckets.take(1)] == [0.0, 0.0]
    assert buckets.take(1) == pytest.approx(1.0)
    assert buckets.take(2) == 0.0  # another key has its own bucket
    now[0] += 1.0
    assert buckets.take(1) == 0.0
