"""Language identification: known sentences, texts without language, huge and mixed-script input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from py3langid.langid import visit_counts

from core.refine.signals import language as language_module
from core.refine.signals.language import (
    SCRIPTS,
    UNDETERMINED,
    _py3langid_model,
    _tie_break,
    detect_language,
    detect_languages,
    dominant_script,
    dominant_scripts,
    language_signals,
    supported_languages,
    tie_break_languages,
)

# Written for these tests (news-style sentences), with the script each is written in.
SENTENCES = {
    "en": ("The committee will publish its final report on the new railway line next month.", "Latin"),
    "de": ("Die Stadtverwaltung hat gestern neue Pläne für den Ausbau der Radwege vorgestellt.", "Latin"),
    "fr": ("Le gouvernement a annoncé hier une nouvelle réforme du système de retraite.", "Latin"),
    "es": ("El ayuntamiento aprobó ayer un nuevo plan para mejorar el transporte público.", "Latin"),
    "it": ("Il comune ha presentato ieri un nuovo progetto per la raccolta dei rifiuti.", "Latin"),
    "pt": ("O governo anunciou ontem um novo programa de apoio às pequenas empresas.", "Latin"),
    "nl": ("De gemeente heeft gisteren nieuwe plannen voor de bouw van woningen gepresenteerd.", "Latin"),
    "pl": ("Rząd przedstawił wczoraj nowy plan budowy mieszkań dla młodych rodzin.", "Latin"),
    "cs": ("Vláda včera představila nový plán výstavby bytů pro mladé rodiny.", "Latin"),
    "tr": ("Belediye dün şehir merkezindeki yeni park projesini kamuoyuna tanıttı.", "Latin"),
    "vi": ("Chính phủ hôm qua đã công bố kế hoạch mới xây dựng nhà ở cho các gia đình trẻ.", "Latin"),
    "ru": ("Вчера правительство представило новый план строительства жилья для молодых семей.", "Cyrillic"),
    "uk": ("Уряд учора представив новий план будівництва житла для молодих сімей.", "Cyrillic"),
    "el": ("Η κυβέρνηση παρουσίασε χθες ένα νέο σχέδιο για την κατασκευή κατοικιών.", "Greek"),
    "ar": ("أعلنت الحكومة أمس عن خطة جديدة لبناء المساكن للأسر الشابة.", "Arabic"),
    "he": ("הממשלה הציגה אתמול תוכנית חדשה לבניית דירות למשפחות צעירות.", "Hebrew"),
    "hi": ("सरकार ने कल युवा परिवारों के लिए आवास निर्माण की एक नई योजना पेश की।", "Devanagari"),
    "zh": ("政府昨天公布了一项为年轻家庭建造住房的新计划。", "Han"),
    "ko": ("정부는 어제 젊은 가족을 위한 새로운 주택 건설 계획을 발표했습니다.", "Hangul"),
    "th": ("รัฐบาลได้ประกาศแผนใหม่ในการสร้างที่อยู่อาศัยสำหรับครอบครัวรุ่นใหม่เมื่อวานนี้", "Thai"),
}


@pytest.mark.parametrize("expected", sorted(SENTENCES))
def test_known_sentences_get_their_language_and_script(expected):
    sentence, script = SENTENCES[expected]
    language, confidence, detected_script = detect_language(sentence)
    assert (language, detected_script) == (expected, script)
    assert 0.5 < confidence <= 1.0


def test_batch_keeps_index_and_column_types():
    texts = pd.Series([SENTENCES["en"][0], SENTENCES["zh"][0], SENTENCES["ru"][0]], index=["a", "b", "c"])
    signals = language_signals(texts)
    assert list(signals.columns) == ["language", "language_confidence", "script"]
    assert list(signals.index) == ["a", "b", "c"]
    assert signals["language"].tolist() == ["en", "zh", "ru"]
    assert signals["script"].tolist() == ["Latin", "Han", "Cyrillic"]
    assert signals["language_confidence"].dtype == "float64"
    assert signals["language_confidence"].between(0, 1).all()


NO_LANGUAGE = ["", "   \n\t ", "😀🎉👍", "12345 678", "3.14 + 2.72 = 5.86", "!!! ??? ...", "🇫🇷 2024"]


@pytest.mark.parametrize("text", NO_LANGUAGE)
def test_text_without_letters_is_undetermined_with_zero_confidence(text):
    assert detect_language(text) == (UNDETERMINED, 0.0, "Unknown")


def test_missing_and_non_string_values_are_undetermined_not_errors():
    texts = pd.Series(["Das ist ein ganz normaler deutscher Satz über das Wetter.", None, math.nan, 42],
                      dtype=object)
    signals = language_signals(texts)
    assert signals["language"].tolist() == ["de", UNDETERMINED, UNDETERMINED, UNDETERMINED]
    assert signals["language_confidence"].iloc[1:].tolist() == [0.0, 0.0, 0.0]


def test_pandas_string_dtype_with_missing_values():
    texts = pd.Series(["Le chat dort sur le canapé depuis ce matin.", None], dtype="str")
    assert language_signals(texts)["language"].tolist() == ["fr", UNDETERMINED]


def test_single_word_gets_a_valid_answer():
    for word in ("Hello", "x", "Здравствуйте", "こんにちは"):
        language, confidence, _ = detect_language(word)
        assert language in supported_languages()
        assert 0.0 < confidence <= 1.0
    assert detect_language("Здравствуйте")[2] == "Cyrillic"
    assert detect_language("こんにちは")[:1] == ("ja",)


def test_five_megabytes_of_one_repeated_line_is_read_from_a_sample():
    line = "The weather in the mountains was cold and windy all week long.\n"
    huge = line * (5_000_000 // len(line))
    assert len(huge) > 4_900_000
    language, confidence, script = detect_language(huge)
    assert (language, script) == ("en", "Latin")
    assert confidence > 0.9


def test_mixed_scripts_report_the_dominant_script():
    latin_heavy = "This paragraph is mostly English words, with Привет and 你好 mixed in."
    han_heavy = "今天北京的天气很好，我们去公园散步。 Hello Привет"
    cyrillic_heavy = "Сегодня в Москве прошёл большой городской праздник. Hello 你好"
    assert dominant_script(latin_heavy) == "Latin"
    assert dominant_script(han_heavy) == "Han"
    assert dominant_script(cyrillic_heavy) == "Cyrillic"
    assert detect_language(latin_heavy)[0] == "en"
    assert detect_language(cyrillic_heavy)[0] == "ru"


def test_dominant_script_counts_letters_only():
    assert dominant_script("123 456 !!! 😀 Ωμέγα") == "Greek"
    assert dominant_script("") == "Unknown"
    assert dominant_script("ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ") == "Other"  # Cherokee: letters outside the listed blocks
    assert set(SCRIPTS) >= {"Latin", "Cyrillic", "Han", "Arabic", "Other"}


def test_urls_and_emails_do_not_decide_the_language():
    text = ("info@example.com https://www.example.com/shop/cart?item=12345&session=abcdef "
            "Wir freuen uns auf Ihren Besuch in unserem Geschäft in der Altstadt.")
    assert detect_language(text)[0] == "de"


def test_every_reported_code_is_a_two_letter_iso_639_1_code():
    codes = supported_languages()
    assert len(codes) > 90
    assert all(len(code) == 2 and code.isalpha() and code.islower() for code in codes)
    assert "zh" in codes and "wuu" not in codes and "yue" not in codes


@pytest.mark.skipif(not tie_break_languages(), reason="lingua-language-detector not installed")
def test_lingua_settles_close_calls_between_related_languages():
    # py3langid alone calls this Czech sentence Slovak (0.61); lingua, asked only about the top
    # candidates, knows better, and the confidence reflects the shared probability mass.
    sentence = "Dnes je krásné počasí."
    assert detect_language(sentence, tie_break_below=0.0)[0] == "sk"
    language, confidence, _ = detect_language(sentence)
    assert language == "cs"
    assert 0.5 < confidence < 1.0
    assert {"cs", "sk", "no"} <= tie_break_languages()


def test_batched_scoring_matches_py3langid_one_text_at_a_time():
    # The batch scorer re-implements LanguageIdentifier._decide as one matrix product; if a py3langid
    # upgrade changes its arithmetic, this fails instead of the answers silently drifting.
    model = _py3langid_model()
    texts = [sentence for sentence, _ in SENTENCES.values()] + ["x", "HELLO IN CAPITALS", "ǂǂ", "a" * 3000]
    batched = model.probabilities(texts)
    one_by_one = np.array([model.fold.T @ model.identifier._decide(text) for text in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)
    assert np.allclose(batched.sum(axis=1), 1.0, atol=1e-4)


def test_batch_and_single_calls_agree():
    texts = [sentence for sentence, _ in SENTENCES.values()] + ["", "Kde si?", "😀"]
    assert detect_languages(texts) == [detect_language(text) for text in texts]


# Texts for the feature walk: every script above, nothing, one byte, emoji, NUL, a lone surrogate (how
# surrogateescape-decoded bytes arrive), capitals (py3langid lowercases an all-caps text), long ones.
WALK_TEXTS = [sentence for sentence, _ in SENTENCES.values()] + [
    "", "a", " ", "😀", "👩‍👩‍👧 🇫🇷 🎉", "x\x00y", "broken \udcff byte", "HELLO IN CAPITALS", "ǂǂ",
    "Здравствуйте, мир! " * 40, "今天北京的天气很好。" * 60, "The weather was cold and windy all week. " * 80,
]


def _py3langid_counts(text: str) -> dict[int, int]:
    identifier = _py3langid_model().identifier
    encoded = identifier._encode(text)
    return dict(visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, encoded) or {})


@pytest.mark.parametrize("walk_cells", [language_module.WALK_CELLS, 3000, 1])
def test_batched_feature_walk_counts_exactly_what_py3langid_counts(monkeypatch, walk_cells):
    # The lockstep walk must be the same automaton run: any difference in a count would shift scores.
    # Small WALK_CELLS split the batch into many chunks (1: one text each), as a big batch would be split.
    monkeypatch.setattr(language_module, "WALK_CELLS", walk_cells)
    model = _py3langid_model()
    identifier = model.identifier
    counts = model.feature_counts([identifier._encode(text) for text in WALK_TEXTS])
    assert counts.shape == (len(WALK_TEXTS), len(identifier.nb_ptc))
    for row, text in enumerate(WALK_TEXTS):
        found = counts.getrow(row)
        walked = dict(zip(found.indices.tolist(), found.data.astype(int).tolist(), strict=True))
        assert walked == _py3langid_counts(text)
    assert counts[WALK_TEXTS.index("")].nnz == 0


def test_feature_walk_of_an_empty_batch_and_of_only_empty_texts():
    model = _py3langid_model()
    assert model.feature_counts([]).shape == (0, len(model.identifier.nb_ptc))
    assert model.feature_counts([b"", b""]).nnz == 0


def test_batched_scripts_match_one_text_at_a_time():
    texts = [*WALK_TEXTS, "123 456 !!! 😀 Ωμέγα", "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ", "𠀀𠀁𠀂𠀃 abc", "é\ud800"]
    scripts = dominant_scripts(texts)
    assert scripts == [dominant_script(text) for text in texts]
    assert scripts[-4:] == ["Greek", "Other", "Han", "Latin"]  # supplementary Han; a surrogate is no error


class _StubLingua:
    """Stands in for a lingua detector with fixed confidence values."""

    def __init__(self, values: dict[str, float]):
        self.values = values

    def compute_language_confidence_values(self, _text):
        return [SimpleNamespace(language=language_module.Language.from_iso_code_639_1(
            getattr(language_module.IsoCode639_1, code.upper())), value=value) for code, value in self.values.items()]


@pytest.mark.skipif(not tie_break_languages(), reason="lingua-language-detector not installed")
def test_tie_break_takes_linguas_choice_with_the_candidates_mass(monkeypatch):
    def with_lingua(values):
        monkeypatch.setattr(language_module, "_lingua_detector", lambda _codes: _StubLingua(values))

    # lingua picks among the candidates; the confidence is lingua's share of py3langid's candidate mass.
    with_lingua({"sk": 0.05, "cs": 0.95})
    language, confidence = _tie_break("text", [("sk", 0.50), ("cs", 0.40), ("hu", 0.02)], "sk", 0.50)
    assert (language, confidence) == ("cs", pytest.approx((0.50 + 0.40 + 0.02) * 0.95))
    # A language lingua does not know is no candidate; with one candidate left, py3langid's answer stands.
    with_lingua({"hi": 1.0})
    assert _tie_break("text", [("hi", 0.52), ("ne", 0.39), ("mr", 0.005)], "hi", 0.52) == ("hi", 0.52)
    # So is an answer lingua does not know, and an answer lingua has no opinion on.
    assert _tie_break("text", [("gl", 0.51), ("pt", 0.48)], "gl", 0.51) == ("gl", 0.51)
    with_lingua({})
    assert _tie_break("text", [("sk", 0.75), ("cs", 0.25)], "sk", 0.75) == ("sk", 0.75)
