"""Schemathesis against a live API server: every operation in /openapi.json, all response checks
(no 5xx, documented statuses, content types and headers, response schemas, bad data rejected, valid
data accepted), with a supplier's API key. Examples per operation are bounded to keep the run short."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from api_helpers import running_api  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from principals import new_user  # noqa: E402

from core.api.keys import create_api_key  # noqa: E402

# 15 per operation found nothing more than 5 did and took 3 minutes here (hypothesis generation, not the API).
EXAMPLES_PER_OPERATION = 5


@pytest.fixture(scope="module")
def live_api(workbench):
    with running_api(rate_per_minute=1_000_000, rate_burst=1_000_000) as base_url:
        yield base_url, create_api_key(new_user("supplier"), "schemathesis")["key"]


@pytest.fixture(scope="module")
def api_schema(live_api):
    base_url, _ = live_api
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_meets_its_schema(case, live_api):
    base_url, key = live_api
    if case.path == "/scrape-jobs" and isinstance(case.body, dict) and case.body.get("demo") is True:
        case.body["demo"] = False  # the demo crawl serves and fetches three sites: minutes of CPU, not a contract
    case.call_and_validate(base_url=base_url, headers={"X-API-Key": key}, timeout=60)
