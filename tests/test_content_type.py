"""Content type and modality: a crafted item per type, look-alikes that must not fool the rules, bad rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.refine.signals.content_type import (
    CONTENT_TYPES,
    classify_content,
    content_type_signals,
    text_features,
)

PYTHON = '''import os

def count_lines(path):
    total = 0
    with open(path) as handle:
        for line in handle:
            total += 1
    return total
'''
JAVASCRIPT = "function add(a, b) {\n  const total = a + b;\n  return total;\n}\nconsole.log(add(1, 2));\n"
CSV = "name,price,qty,city\napple,1.2,3,Paris\npear,0.8,10,Lyon\nplum,2.5,1,Nice\nfig,3.1,7,Metz\n"
MARKDOWN_TABLE = "| city | people | area |\n|---|---|---|\n| Paris | 2.1m | 105 |\n| Lyon | 0.5m | 48 |\n"
TSV = "id\tname\tscore\n1\tAnna\t9.5\n2\tBen\t7.0\n3\tCara\t8.2\n"
FORUM = ("> I think the last update broke the login for everyone.\n"
         "Works fine for me. Did you clear the cache first?\n"
         "Posted by john_doe 3 hours ago\n"
         "Reply | Quote | Report post\n"
         "@maria_k try reinstalling the app, that fixed it here.\n")
COOKIE_BANNER = ("We use cookies to improve your experience. By continuing you accept our Privacy Policy. "
                 "Accept all | Manage preferences")
NOT_FOUND = "404 - Page not found. The page you are looking for does not exist or has been moved."
LOGIN_PAGE = "Sign in to your account. Forgot your password? Create an account. Log in with email."
ARTICLE = (
    "The city council approved a new plan for solar energy on Tuesday. The plan adds panels to forty "
    "schools over the next three years. Officials said the project would cut the schools' electricity "
    "bills by a third. Critics argued that the money could be better spent on teachers and books. The "
    "council voted seven to two in favour after a long debate. Construction is expected to start in the "
    "spring, once the contracts are signed and the suppliers have been chosen by a panel of experts.")
# An article about cookies, with a date and a time: the words alone must not make it boilerplate or a forum.
COOKIE_RECIPE = (
    "Grandmother's oatmeal cookies have been a family favourite since 1962. Mix the butter and sugar until "
    "pale, then add the eggs one at a time. Fold in the oats, raisins and a pinch of cinnamon. Bake the "
    "cookies at 180 degrees for 12 minutes, until the edges are golden. Let them cool on a rack before "
    "serving. They keep for a week in a tin, if nobody finds them first. We baked the last batch at 10:30 on "
    "Sunday morning and the kitchen smelled wonderful for the rest of the day, which is half the point.")


@pytest.mark.parametrize(("text", "expected"), [
    (PYTHON, "code"), (JAVASCRIPT, "code"),
    (CSV, "table"), (MARKDOWN_TABLE, "table"), (TSV, "table"),
    (FORUM, "forum_post"),
    (COOKIE_BANNER, "boilerplate"), (NOT_FOUND, "boilerplate"), (LOGIN_PAGE, "boilerplate"),
    (ARTICLE, "article"), (COOKIE_RECIPE, "article"),
    ("Nice bike, barely used", "other"), ("Hello", "other"), ("", "other"), ("   ", "other"),
    ("😀🎉", "other"),
])
def test_text_items_get_the_expected_type(text, expected):
    assert classify_content("text", text) == expected


def test_data_type_and_listing_fields_decide_before_the_text():
    assert classify_content("listing", ARTICLE) == "listing"
    assert classify_content("text", "Great bike", fields={"price": 120.0, "currency": "EUR"}) == "listing"
    assert classify_content("text", ARTICLE, fields={"price": "n/a", "currency": "EUR"}) == "article"
    assert classify_content("tabular", "") == "table"
    assert classify_content("image", "") == "other"
    assert classify_content("audio", "caption text") == "other"


def test_title_and_link_share_mark_boilerplate():
    assert classify_content("text", "The page you requested could not be shown.", title="404 Not Found") \
        == "boilerplate"
    assert classify_content("text", ARTICLE, link_text_share=0.9) == "boilerplate"
    assert classify_content("text", ARTICLE, link_text_share=0.1) == "article"


def test_long_prose_with_a_copyright_footer_stays_an_article():
    assert classify_content("text", ARTICLE + "\n© 2024 Example News. All rights reserved.") == "article"


def test_batch_columns_modality_and_index():
    items = pd.DataFrame({
        "data_type": ["text", "text", "listing", "tabular", "image", "audio"],
        "text": [ARTICLE, PYTHON, "Red bike", "", "", ""],
        "title": [None, None, "Bike", None, "photo.jpg", "voice.mp3"],
        "fields": [None, None, {"price": 80.0, "currency": "EUR"}, None, None, None],
    }, index=[10, 11, 12, 13, 14, 15])
    signals = content_type_signals(items)
    assert list(signals.columns) == ["content_type", "modality"]
    assert list(signals.index) == [10, 11, 12, 13, 14, 15]
    assert signals["content_type"].tolist() == ["article", "code", "listing", "table", "other", "other"]
    assert signals["modality"].tolist() == ["text", "text", "text", "tabular", "image", "audio"]
    assert set(signals["content_type"]) <= set(CONTENT_TYPES)


def test_malformed_rows_never_raise():
    items = pd.DataFrame({
        "data_type": [None, math.nan, "video", "text", "text"],
        "text": [5, None, "Some words here", ["a", "list"], {"a": 1}],
        "title": [3.5, None, None, 7, None],
        "fields": ["not a dict", [1, 2], None, math.nan, {"price": [1, 2]}],
    })
    signals = content_type_signals(items)
    assert signals["content_type"].tolist() == ["other"] * 5
    assert signals["modality"].tolist() == ["text"] * 5


def test_missing_optional_columns_are_tolerated():
    signals = content_type_signals(pd.DataFrame({"text": [CSV, ARTICLE]}))
    assert signals["content_type"].tolist() == ["table", "article"]
    assert signals["modality"].tolist() == ["text", "text"]


def test_five_megabytes_of_one_repeated_line_is_judged_on_a_sample():
    line = "The river rose slowly through the night and the town watched it from the bridge.\n"
    huge = line * (5_000_000 // len(line))
    assert classify_content("text", huge) == "article"
    repeated_code = "x = compute(value);\n" * (5_000_000 // 20)
    assert classify_content("text", repeated_code) == "code"


def test_mixed_scripts_prose_is_an_article():
    mixed = (ARTICLE + " В Москве прошёл большой городской праздник, и люди гуляли до ночи. "
             "今天北京的天气很好，我们去公园散步。")
    assert classify_content("text", mixed) == "article"


def test_chinese_and_japanese_prose_count_as_words():
    chinese = "今天北京的天气很好，我们去公园散步。" * 12
    assert text_features(chinese).words > 80
    assert classify_content("text", chinese) == "article"
    korean = "정부는 어제 젊은 가족을 위한 새로운 주택 건설 계획을 발표했습니다. " * 3
    assert text_features(korean).words == 30  # 10 words a sentence: Korean separates words with spaces


def test_features_explain_the_decision():
    features = text_features(CSV)
    assert features.lines == 5
    assert features.table_line_share == 1.0
    assert features.code_line_share == 0.0
    assert text_features(FORUM).forum_line_share >= 0.6
    assert text_features(COOKIE_BANNER).boilerplate_cues_per_100_words > 10
