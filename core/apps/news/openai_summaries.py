"""OpenAI summaries when OPENAI_API_KEY is set, with the local summarizer as the fallback for every failure.

Through the official `openai` client (Chat Completions), with a per-request timeout, the client's own
retries (429 and 5xx with backoff), and a cost cap per job (`CostMeter`): before each call the worst case
(prompt estimate + max output tokens at the configured prices) must fit in what is left, and after it the
real `usage` is charged. A missing key, a refused budget, a timeout, an API error or an answer that is not
the JSON asked for all end in the local summary, with the reason recorded in `summary.meta`.

The model is asked for both an abstractive summary and the numbers of the article sentences it rests on,
so the article view can still highlight real sentences of the text.

Settings (environment): OPENAI_API_KEY; OPENAI_BASE_URL (read by the client; tests point it at a local
fake server); NEWS_OPENAI_MODEL (default gpt-4o-mini); NEWS_OPENAI_TIMEOUT_S (20);
NEWS_OPENAI_MAX_RETRIES (2); NEWS_OPENAI_COST_CAP_USD (0.50 per job); NEWS_OPENAI_PRICE_IN / _OUT
(USD per million tokens, default 0.15 / 0.60).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

from core.apps.news.summarize import Summary, article_parts, summarize

GENERATOR = "openai-chat-v1"
CHARS_PER_TOKEN = 4  # a conservative estimate for the budget check; real usage is charged afterwards


class OpenAIUnavailable(RuntimeError):
    """No OpenAI result: not configured, over budget, or the call failed. The message says which."""


@dataclass(frozen=True)
class OpenAIConfig:
    api_key: str
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 20.0
    max_retries: int = 2
    cost_cap_usd: float = 0.50
    price_in_per_mtok: float = 0.15
    price_out_per_mtok: float = 0.60
    max_output_tokens: int = 400

    @classmethod
    def from_env(cls) -> OpenAIConfig | None:
        """The configuration when OPENAI_API_KEY is set (environment or .env), else None."""
        from core.config import get_settings

        key = os.environ.get("OPENAI_API_KEY") or get_settings().openai_api_key
        if not key:
            return None
        env = os.environ
        return cls(api_key=key, base_url=env.get("OPENAI_BASE_URL") or None,
                   model=env.get("NEWS_OPENAI_MODEL", cls.model),
                   timeout_s=float(env.get("NEWS_OPENAI_TIMEOUT_S", cls.timeout_s)),
                   max_retries=int(env.get("NEWS_OPENAI_MAX_RETRIES", cls.max_retries)),
                   cost_cap_usd=float(env.get("NEWS_OPENAI_COST_CAP_USD", cls.cost_cap_usd)),
                   price_in_per_mtok=float(env.get("NEWS_OPENAI_PRICE_IN", cls.price_in_per_mtok)),
                   price_out_per_mtok=float(env.get("NEWS_OPENAI_PRICE_OUT", cls.price_out_per_mtok)))

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in_per_mtok + completion_tokens * self.price_out_per_mtok) / 1e6


@dataclass
class CostMeter:
    """What one job may spend on OpenAI, and what it has spent (thread-safe)."""

    cap_usd: float
    spent_usd: float = 0.0
    calls: int = 0
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, worst_case_usd: float) -> None:
        with self._lock:
            if self.spent_usd + worst_case_usd > self.cap_usd:
                self.refused += 1
                raise OpenAIUnavailable(f"cost cap reached (spent ${self.spent_usd:.4f} of ${self.cap_usd:.2f})")

    def charge(self, usd: float) -> None:
        with self._lock:
            self.spent_usd += usd
            self.calls += 1

    def as_dict(self) -> dict:
        return {"cap_usd": self.cap_usd, "spent_usd": round(self.spent_usd, 6), "calls": self.calls,
                "refused": self.refused}


def chat(config: OpenAIConfig, meter: CostMeter, system: str, user: str, json_answer: bool = False) -> str:
    """One Chat Completions call within the budget; the answer's text. Raises OpenAIUnavailable."""
    import openai

    worst = config.cost(len(system + user) // CHARS_PER_TOKEN + 50, config.max_output_tokens)
    meter.reserve(worst)
    client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url, timeout=config.timeout_s,
                           max_retries=config.max_retries)
    extra = {"response_format": {"type": "json_object"}} if json_answer else {}
    try:
        response = client.chat.completions.create(
            model=config.model, max_tokens=config.max_output_tokens, temperature=0,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}], **extra)
    except openai.APITimeoutError as exc:
        raise OpenAIUnavailable(f"OpenAI timed out after {config.timeout_s:.0f} s") from exc
    except openai.RateLimitError as exc:
        raise OpenAIUnavailable(f"OpenAI rate limit (429) after {config.max_retries} retries") from exc
    except openai.APIStatusError as exc:
        raise OpenAIUnavailable(f"OpenAI error {exc.status_code}") from exc
    except openai.APIError as exc:  # connection errors and the like
        raise OpenAIUnavailable(f"OpenAI unreachable: {exc.__class__.__name__}") from exc
    finally:
        client.close()
    usage = response.usage
    meter.charge(config.cost(usage.prompt_tokens, usage.completion_tokens) if usage else worst)
    content = response.choices[0].message.content if response.choices else None
    if not content:
        raise OpenAIUnavailable("OpenAI returned an empty answer")
    return content


_SYSTEM = ("You summarize news articles faithfully. Answer with JSON only: "
           '{"summary": "<at most N sentences, in the article\'s language>", '
           '"sentences": [<numbers of the article sentences the summary rests on, at most N>]}. '
           "Do not add facts that are not in the article.")


def openai_summary(text: str, n_sentences: int, language: str | None, config: OpenAIConfig,
                   meter: CostMeter) -> Summary:
    title, body = article_parts(text)
    if not body:
        raise OpenAIUnavailable("nothing to summarize")
    offset = 1 if title else 0
    numbered = "\n".join(f"[{i + 1}] {s.text}" for i, s in enumerate(body))
    user = f"N = {n_sentences}. Language: {language or 'unknown'}.\nTitle: {title or '-'}\nArticle:\n{numbered}"
    answer = chat(config, meter, _SYSTEM, user, json_answer=True)
    try:
        data = json.loads(answer)
        abstract = str(data["summary"]).strip()
        numbers = sorted({int(n) for n in data.get("sentences", []) if 1 <= int(n) <= len(body)})[:n_sentences]
    except (ValueError, KeyError, TypeError) as exc:
        raise OpenAIUnavailable("OpenAI's answer was not the JSON asked for") from exc
    if not abstract:
        raise OpenAIUnavailable("OpenAI returned an empty summary")
    chosen = [n - 1 for n in numbers]
    return Summary(sentences=[body[i].text for i in chosen], indices=[i + offset for i in chosen],
                   spans=[(body[i].start, body[i].end) for i in chosen], method=f"openai:{config.model}",
                   title=title, meta={"abstract": abstract, "generator": GENERATOR})


def summary_for(text: str, n_sentences: int | None = None, language: str | None = "en",
                config: OpenAIConfig | None = None, meter: CostMeter | None = None,
                use_openai: bool = True) -> Summary:
    """OpenAI's summary when configured and within budget; otherwise (or on any failure) the local one."""
    local = summarize(text, n_sentences, language)
    if not use_openai or config is None or not local.sentences:
        return local
    meter = meter or CostMeter(config.cost_cap_usd)
    try:
        result = openai_summary(text, len(local.sentences), language, config, meter)
    except OpenAIUnavailable as exc:
        local.meta["fallback_reason"] = str(exc)
        return local
    if not result.sentences:  # no usable sentence numbers: highlight the local choice, keep the abstract
        result.sentences, result.indices, result.spans = local.sentences, local.indices, local.spans
    return result
