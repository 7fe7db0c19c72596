"""OpenAI wording when OPENAI_API_KEY is set, through the same adapter as the News app (official client,
timeout, retries, cost cap). The model only rewrites the title and description from the given facts; the
attributes and the price stay the seller's. An answer is used only if it is the JSON asked for and states no
figure that is not among the facts, so the model cannot add a year, a size or a price; any failure falls back to
the local template with the reason shown.
"""

from __future__ import annotations

import json
import re

from core.apps.news.openai_summaries import CostMeter, OpenAIConfig, OpenAIUnavailable, chat
from core.refine.signals.pii import redact_pii

MAX_TITLE = 80
MAX_DESCRIPTION = 3000
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

SYSTEM = ("You write honest second-hand marketplace listings. Use only the facts given; never add a fact, "
          "figure, brand, year, size or claim that is not in them, and state every known flaw. "
          'Answer with JSON only: {"title": "<at most 80 characters>", "description": "<2 to 5 short '
          'paragraphs, plain text>"}.')


def _redacted(value):
    if isinstance(value, str):
        return redact_pii(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def _facts(fields: dict) -> dict:
    """The facts sent to OpenAI, with any personal data replaced by its label: a phone number in the seller's
    notes never leaves the workbench."""
    return {k: _redacted(v) for k, v in fields.items() if v not in (None, "", [], {})}


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[.,]", "", n).lstrip("0") or "0" for n in _NUMBER.findall(text)}


def invented_figures(answer: str, fields: dict) -> list[str]:
    """Figures in the answer that appear nowhere in the facts (a thousands separator does not count)."""
    known = _numbers(json.dumps(_facts(fields), ensure_ascii=False))
    return sorted(_numbers(answer) - known)


def openai_wording(fields: dict, config: OpenAIConfig, meter: CostMeter | None = None) -> dict:
    """{title, description, method} written by OpenAI from the facts. Raises OpenAIUnavailable with the reason."""
    meter = meter or CostMeter(config.cost_cap_usd)
    user = "Listing facts (JSON):\n" + json.dumps(_facts(fields), ensure_ascii=False, indent=1)
    answer = chat(config, meter, SYSTEM, user, json_answer=True)
    try:
        data = json.loads(answer)
        title, description = str(data["title"]).strip(), str(data["description"]).strip()
    except (ValueError, KeyError, TypeError) as exc:
        raise OpenAIUnavailable("OpenAI's answer was not the JSON asked for") from exc
    if not title or not description:
        raise OpenAIUnavailable("OpenAI returned an empty title or description")
    if len(description) > MAX_DESCRIPTION:
        raise OpenAIUnavailable(f"OpenAI's description was {len(description)} characters long")
    invented = invented_figures(f"{title}\n{description}", fields)
    if invented:
        raise OpenAIUnavailable("OpenAI's text states figures that are not in your fields ("
                                + ", ".join(invented[:5]) + ")")
    return {"title": title[:MAX_TITLE], "description": description, "method": f"openai:{config.model}"}
