"""The OpenAI path against a local fake server: success, 429, 5xx, timeout, bad answers, the cost cap."""

import pytest
from fake_openai import FakeOpenAI
from test_news_summaries import ARTICLE

from core.apps.news.openai_summaries import CostMeter, OpenAIConfig, summary_for


@pytest.fixture
def fake():
    server = FakeOpenAI(slow_s=2.0).start()
    yield server
    server.stop()


def _config(fake, **overrides) -> OpenAIConfig:
    return OpenAIConfig(**{"api_key": "sk-test", "base_url": fake.base_url, "timeout_s": 0.5, "max_retries": 1,
                           "cost_cap_usd": 1.0, **overrides})


def test_openai_summary_through_the_official_client(fake):
    summary = summary_for(ARTICLE, 2, "en", config=_config(fake))
    assert summary.method == "openai:gpt-4o-mini"
    assert summary.meta["abstract"] == "A fake summary of the article."
    assert len(summary.sentences) == 2
    request = fake.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-test"
    assert "Article:" in request["body"]["messages"][-1]["content"]


@pytest.mark.parametrize("behaviours, reason", [(("429", "429"), "rate limit"), (("500", "500"), "error 500"),
                                                (("slow", "slow"), "timed out"), (("not_json",), "not the JSON")])
def test_failures_fall_back_to_the_local_summary(fake, behaviours, reason):
    fake.script(*behaviours)
    summary = summary_for(ARTICLE, 2, "en", config=_config(fake))
    assert summary.method.startswith("local")
    assert reason in summary.meta["fallback_reason"]
    assert len(summary.sentences) == 2


def test_a_429_is_retried_by_the_client(fake):
    fake.script("429")
    summary = summary_for(ARTICLE, 2, "en", config=_config(fake))
    assert summary.method.startswith("openai")
    assert len(fake.requests) == 2


def test_cost_cap_stops_calls_and_the_rest_is_local(fake):
    config = _config(fake, cost_cap_usd=0.0006)  # a call costs $0.00027 at the fake's usage: room for two
    meter = CostMeter(config.cost_cap_usd)
    methods = [summary_for(ARTICLE, 2, "en", config=config, meter=meter).method for _ in range(5)]
    assert methods[0].startswith("openai")
    assert methods[-1].startswith("local")
    assert meter.spent_usd <= config.cost_cap_usd and meter.refused >= 1
    assert len(fake.requests) == meter.calls
