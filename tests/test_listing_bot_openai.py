"""The listing bot's OpenAI path against the local fake OpenAI server: the wording is used when it is the JSON
asked for and states only given figures; errors, garbage and invented figures fall back to the template with
the reason shown."""

from __future__ import annotations

import json

import pytest
from fake_openai import FakeOpenAI
from principals import new_user

from core.apps.listings.bot.service import draft_listing
from core.apps.news.openai_summaries import OpenAIConfig

NOTE = "Gazelle city bike, 57 cm frame, good condition, a few scratches, 350 eur, pick-up in Utrecht"
HONEST = {"title": "Gazelle city bike with 57 cm frame",
          "description": "A Gazelle city bike in good condition with a 57 cm frame.\n\nKnown flaws: a few "
                         "scratches.\n\n€350, pick-up in Utrecht."}


class FakeListingOpenAI(FakeOpenAI):
    """The fake server, answering listing prompts with the listing JSON queued in `answers`."""

    def __init__(self) -> None:
        super().__init__(slow_s=1.0)
        self.answers: list[str] = []

    def _answer_text(self, body: dict) -> str:
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("Listing facts (JSON):") and self.answers:
            return self.answers.pop(0)
        return super()._answer_text(body)


@pytest.fixture
def fake():
    server = FakeListingOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def owner(workbench):
    return new_user("supplier")


def _config(fake) -> OpenAIConfig:
    return OpenAIConfig(api_key="sk-test", base_url=fake.base_url, timeout_s=0.5, max_retries=0, cost_cap_usd=1.0)


def test_openai_wording_through_the_official_client(fake, owner):
    fake.answers.append(json.dumps(HONEST))
    draft = draft_listing(owner, note=NOTE, openai_config=_config(fake))
    assert draft["method"] == "openai:gpt-4o-mini"
    assert draft["title"] == HONEST["title"] and draft["description"] == HONEST["description"]
    assert draft["attributes"]["brand"] == "Gazelle" and draft["price"] == 350  # facts stay the seller's
    request = fake.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-test"
    facts = json.loads(request["body"]["messages"][-1]["content"].split("\n", 1)[1])
    assert facts["brand"] == "Gazelle" and facts["price"] == 350
    assert "never add a fact" in request["body"]["messages"][0]["content"]


@pytest.mark.parametrize("behaviour, answer, reason", [
    ("500", None, "OpenAI error 500"),
    ("slow", None, "timed out"),
    ("not_json", None, "not the JSON asked for"),
    ("ok", json.dumps({"title": "Bike"}), "not the JSON asked for"),
    ("ok", json.dumps({"title": "Gazelle bike", "description": "Bought in 2021, serviced last month, 350 eur."}),
     "figures that are not in your fields (2021)"),
])
def test_failures_fall_back_to_the_template_with_the_reason(fake, owner, behaviour, answer, reason):
    fake.script(behaviour)
    if answer:
        fake.answers.append(answer)
    draft = draft_listing(owner, note=NOTE, openai_config=_config(fake))
    assert draft["method"].startswith("template:")
    assert any(reason in note and "the local template wrote this draft" in note for note in draft["notes"]), \
        draft["notes"]
    assert "Gazelle" in draft["title"] and "a few scratches" in draft["description"]


def test_no_key_means_no_call(fake, owner, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    draft = draft_listing(owner, note=NOTE)
    assert draft["method"].startswith("template:") and fake.requests == [] and draft["notes"] == []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    fake.answers.append(json.dumps(HONEST))
    assert draft_listing(owner, note=NOTE)["method"] == "openai:gpt-4o-mini"
    assert draft_listing(owner, note=NOTE, use_openai=False)["method"].startswith("template:")
    assert len(fake.requests) == 1


def test_personal_data_never_reaches_openai(fake, owner):
    fake.answers.append(json.dumps(HONEST))
    draft_listing(owner, note=NOTE + ". Questions? Mail jan@example.org", openai_config=_config(fake))
    sent = fake.requests[-1]["body"]["messages"][-1]["content"]
    assert "jan@example.org" not in sent and "[EMAIL]" in sent
