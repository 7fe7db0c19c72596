"""Quality sub-scores and their raw measures on crafted inputs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.refine.signals.base import SignalParams
from core.refine.signals.clarity import clarity_measures, clarity_score
from core.refine.signals.completeness import (
    DEFAULT_GOOD_TEXT_CHARS,
    DEFAULT_REQUIRED_FIELDS,
    completeness_signals,
)
from core.refine.signals.quality import QUALITY_COLUMNS, quality_score, quality_signals
from core.refine.signals.relevance import relevance_signals, topic_profile
from core.refine.signals.validity import boilerplate_measures

PROSE = (
    "The city council met on Tuesday to discuss the new budget for the coming year. Members argued "
    "that the plan would raise taxes for families, while the mayor said it was the only way to keep "
    "the libraries open.\n"
    "After a long debate, the council voted to delay the decision until the next meeting in March. "
    "Residents who attended the session said they were glad to have been heard by their representatives.\n"
    "The budget will be published online so that everyone can read it before the vote, and a second "
    "hearing is planned for the end of the month in the town hall."
)
CHINESE = (
    "城市议会在星期二开会讨论明年的新预算。"
    "议员们认为这个计划会增加家庭的税收，而市长说这是保持图书馆开放的唯一办法。"
) * 3


def measures_of(*texts: str) -> pd.DataFrame:
    measures = clarity_measures(list(texts))
    measures["clarity"] = clarity_score(measures)
    return measures


def items_frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "id": "x",
        "text": "",
        "title": None,
        "data_type": "text",
        "fields": None,
        "source_app": "",
        "url": None,
    }
    frame = pd.DataFrame([{**base, "id": str(i), **row} for i, row in enumerate(rows)])
    return frame


def test_good_prose_is_clear_with_expected_measures():
    m = measures_of(PROSE).iloc[0]
    assert m["word_count"] == len(PROSE.split())
    assert m["clarity"] > 0.9
    assert 0.2 < m["stop_word_ratio"] < 0.6
    assert m["letter_word_ratio"] == pytest.approx(1.0)
    assert m["punctuated_line_ratio"] == pytest.approx(1.0)
    assert m["line_count"] == 3
    assert m["duplicate_line_frac"] == 0 and m["top_2gram_char_frac"] < 0.1


@pytest.mark.parametrize("text", ["", "   \n  ", "word", "😀😀 🎉 😀"])
def test_empty_single_word_and_emoji_are_not_clear(text):
    m = measures_of(text).iloc[0]
    assert m["clarity"] < 0.01
    if text.strip().startswith("😀"):
        assert m["letter_word_ratio"] == 0.0 and m["word_count"] == 3


def test_five_megabytes_of_one_repeated_line():
    text = "buy now and save big on everything\n" * (5_000_000 // 35)
    m = measures_of(text).iloc[0]
    assert m["word_count"] == 7 * (5_000_000 // 35)  # counted over the whole text
    assert m["duplicate_line_frac"] > 0.99 and m["duplicate_line_char_frac"] > 0.99
    assert m["top_4gram_char_frac"] > 0.5
    assert m["clarity"] == 0.0


def test_cjk_text_counts_characters_as_words_and_is_judged_fairly():
    m = measures_of(CHINESE).iloc[0]
    assert m["cjk_ratio"] > 0.9
    assert m["word_count"] >= len(CHINESE.replace("，", "").replace("。", "")) * 0.9
    assert m["clarity"] > 0.9  # no stop-list or word-length penalty for unspaced scripts


def test_mixed_scripts_report_their_share():
    mixed = PROSE + "\n" + CHINESE[:60]
    m = measures_of(mixed).iloc[0]
    assert 0.05 < m["cjk_ratio"] < 0.5
    assert m["clarity"] > 0.8


def test_bullets_ellipses_and_repetition_have_known_ratios():
    bullets = "\n".join(f"• item number {i}" for i in range(10))
    ellipses = "\n".join(f"Read the rest of story {i}..." for i in range(4)) + "\nA full sentence here."
    paragraphs = "First paragraph here.\n\nFirst paragraph here.\n\nSecond one is different."
    m = measures_of(bullets, ellipses, paragraphs)
    assert m.loc[0, "bullet_line_ratio"] == 1.0 and m.loc[0, "clarity"] < 0.5
    assert m.loc[1, "ellipsis_line_ratio"] == pytest.approx(0.8) and m.loc[1, "clarity"] == 0.0
    assert m.loc[2, "duplicate_paragraph_frac"] == pytest.approx(1 / 3)
    repeated_chars = len("First paragraph here.")
    all_chars = 2 * repeated_chars + len("Second one is different.")
    assert m.loc[2, "duplicate_paragraph_char_frac"] == pytest.approx(repeated_chars / all_chars)


def test_top_ngram_fraction_catches_repetition():
    m = measures_of("cheap shoes online " * 40 + PROSE).iloc[0]
    assert m["top_3gram_char_frac"] > 0.3
    assert m["clarity"] < 0.5


def test_measures_do_not_depend_on_the_batch():
    texts = [PROSE, CHINESE, "", "word", "cheap shoes " * 30]
    together = clarity_measures(texts)
    alone = pd.concat([clarity_measures([t]) for t in texts], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone)


@pytest.mark.parametrize(
    "text",
    ["\u00a0edge spaces\u2003", "\x1cfile separators\x1f split words", "\u3000ideographic\u3000space\u3000"],
)
def test_words_are_split_on_every_python_whitespace_character(text):
    # Arrow tokenizes the batch; its whitespace must be str.split()'s, also at the edges of a text.
    assert clarity_measures([text])["word_count"].iloc[0] == len(text.split())


def test_a_lone_surrogate_from_a_broken_scrape_is_measured_not_fatal():
    measures = clarity_measures(["broken \ud800 text with four words", "fine text"])
    assert measures["word_count"].tolist() == [6, 2]


def test_completeness_counts_required_fields_per_data_type_and_app():
    items = items_frame(
        [
            {"text": "x" * 1000},
            {"text": ""},
            {"data_type": "listing", "title": "Bike", "fields": {"price": 10.0}},
            {
                "data_type": "listing",
                "source_app": "property",
                "title": "Flat",
                "fields": {"price": 1e5, "currency": "EUR", "location": "Rome"},
            },
            {"data_type": "listing", "title": "Lamp", "fields": "not a mapping"},
        ]
    )
    out = completeness_signals(items, DEFAULT_REQUIRED_FIELDS, DEFAULT_GOOD_TEXT_CHARS)
    assert out["completeness"].iloc[0] == pytest.approx(1.0)
    assert out["completeness"].iloc[1] == 0.0 and out["missing_fields"].iloc[1] == "text"
    assert out["missing_fields"].iloc[2] == "currency;location"
    assert out["required_fields_missing"].iloc[3] == 1 and out["missing_fields"].iloc[3] == "area_m2"
    assert out["required_fields_missing"].iloc[4] == 3  # malformed fields count as absent, no exception
    assert (out["text_length"] == [1000, 0, 0, 0, 0]).all()


def test_boilerplate_phrases_and_their_share():
    cookie = "We use cookies to improve your experience. Accept all cookies or manage preferences."
    hits, share = boilerplate_measures(cookie)
    assert hits >= 3 and share == pytest.approx(1.0)
    article = PROSE + "\nRead our privacy policy."
    hits, share = boilerplate_measures(article)
    assert hits == 1 and share < 0.1
    assert boilerplate_measures("The designer will sign into law")[0] == 0  # whole words only ("sign in")


def test_validity_of_error_pages_spam_and_listing_errors():
    items = items_frame(
        [
            {"text": PROSE},
            {"text": "404 Not Found. The page you are looking for does not exist. Page not found."},
            {"text": " ".join(["cheap", "viagra", "pills", "buy", "cheap", "viagra", "online"] * 20)},
            {"text": ""},
            {"data_type": "listing", "title": "Bike", "fields": {"price": "abc"}},
        ]
    )
    upstream = pd.DataFrame({"listing_field_errors": ["", "", "", "", "price_not_number;currency_unknown"]})
    out = quality_signals(items, SignalParams(), upstream)
    assert out["validity"].iloc[0] > 0.9
    assert out["validity"].iloc[1] < 0.01 and out["boilerplate_hits"].iloc[1] >= 3
    assert out["top_word_share"].iloc[2] > 0.25 and out["validity"].iloc[2] < 0.01
    assert out["validity"].iloc[3] == 0.0  # a text item without text is not valid content
    assert out["field_error_count"].iloc[4] == 2 and out["validity"].iloc[4] == pytest.approx(0.36)


def test_relevance_is_neutral_without_topic_and_ranks_on_topic_texts_higher():
    texts = [PROSE, "The striker scored twice as the team won the football match in extra time.", ""]
    neutral = relevance_signals(texts, None)
    assert (neutral["relevance"] == 1.0).all() and neutral["topic_similarity"].isna().all()
    profile = topic_profile(["council", "budget", "mayor"], ["The council approved the city budget."])
    scored = relevance_signals(texts, profile)
    assert scored["topic_keyword_hits"].tolist() == [3, 0, 0]
    assert scored["relevance"].iloc[0] == pytest.approx(1.0)
    assert scored["relevance"].iloc[1] < 0.3 and scored["relevance"].iloc[2] == 0.0


def test_quality_signals_columns_and_weighted_score():
    items = items_frame([{"text": PROSE}, {"text": ""}])
    out = quality_signals(items, SignalParams(), pd.DataFrame(index=items.index))
    assert list(out.columns) == list(QUALITY_COLUMNS)
    assert (out[["completeness", "clarity", "relevance", "validity"]] >= 0).all().all()
    only_clarity = quality_score(out, {"clarity": 2.0, "completeness": 0, "relevance": 0, "validity": 0})
    np.testing.assert_allclose(only_clarity, out["clarity"].to_numpy())
    equal = quality_score(out, {"completeness": 1, "clarity": 1, "relevance": 1, "validity": 1})
    np.testing.assert_allclose(equal, out[["completeness", "clarity", "relevance", "validity"]].mean(axis=1))
    with pytest.raises(ValueError, match="Unknown quality weight"):
        quality_score(out, {"beauty": 1.0})
    with pytest.raises(ValueError, match="positive sum"):
        quality_score(out, {"clarity": 0.0})


def test_anchor_prefilter_finds_the_same_boilerplate_as_a_full_search():
    from core.refine.signals.validity import BOILERPLATE_ANCHORS, validity_signals

    texts = [
        "The striker scored twice as the team won the football match in extra time.",
        "Error 404. (Page not found.) Go back.",
        "WE USE COOKIES. Manage preferences / Accept all.",
        "Subscribe to continue reading: already a subscriber? Sign in",
        "Follow us on social media for more stories like this one about the harbour.",
        "",
        PROSE,  # "read" is the anchor of "read more": flagged, searched, nothing found
    ]
    items = items_frame([{"text": t} for t in texts])
    with_flags = clarity_measures(texts, flag_words=BOILERPLATE_ANCHORS)
    assert with_flags["flag_word_present"].tolist() == [False, True, True, True, True, False, True]
    filtered = validity_signals(items, with_flags, None)
    full = validity_signals(items, clarity_measures(texts), None)
    pd.testing.assert_frame_equal(filtered, full)
    assert (filtered["boilerplate_hits"].iloc[1:5] > 0).all() and filtered["boilerplate_hits"].iloc[6] == 0
