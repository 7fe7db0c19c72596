"""SeparatorTable must give exactly what str.translate with the equivalent dict gives, on any text."""

import random

import pytest

from core.refine.signals.separators import SeparatorTable

SPACES = ".,;:!?«»“”—。、\u00a0\u3000"
ISOLATED = "日本語ไทยカナ・"  # the Katakana middle dot is in both lists: isolation wins


def reference(text: str) -> str:
    table = {ord(c): " " for c in SPACES}
    table.update({ord(c): f" {c} " for c in ISOLATED})
    return text.translate(table)


TABLE = SeparatorTable(spaces=SPACES, isolated=ISOLATED)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii, with punctuation!",
        "Grüße, «Welt» — über\u00a0alles.",
        "日本語のテキスト・テスト。",
        "ภาษาไทย ไทย",
        "emoji 😀, astral 𠀀 and a lone surrogate \ud800 stay as they are.",
        "\x00nul\x00 and 日",
    ],
)
def test_matches_str_translate_on_crafted_texts(text):
    assert TABLE.apply(text) == reference(text)


def test_matches_str_translate_on_random_unicode():
    rng = random.Random(7)
    alphabet = list(SPACES + ISOLATED) + ["a", "é", "ж", " ", "😀", "\ud83d", "\n"]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) if rng.random() < 0.7 else chr(rng.randint(0, 0x10FFFF) % 0xD800)
                       for _ in range(rng.randint(0, 80)))
        assert TABLE.apply(text) == reference(text)


def test_long_text_is_mapped_in_slices_without_losing_characters():
    text = ("é, 日" * 50_000) + "end."
    assert TABLE.apply(text) == reference(text)


def test_separators_outside_the_basic_plane_are_refused():
    with pytest.raises(ValueError, match="Basic Multilingual Plane"):
        SeparatorTable(spaces=["😀"])
