"""The quality sub-scores are graded: texts that all pass the published cut-offs still get different scores,
in the order of how prose-like they are, and a small flaw costs a little where a clear failure costs all."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from core.refine.signals.base import SignalParams
from core.refine.signals.clarity import clarity_measures, clarity_score
from core.refine.signals.quality import quality_score, quality_signals
from core.refine.signals.scoring import bell, geometric_mean, soft_down, soft_up

SENTENCES = [
    "The city council met on Tuesday to discuss the new budget for the coming year.",
    "Members argued that the plan would raise taxes for families, while the mayor said it was the only way "
    "to keep the libraries open.",
    "After a long debate, the council voted to delay the decision until the next meeting in March.",
    "Residents who attended the session said they were glad to have been heard by their representatives.",
    "The budget will be published online so that everyone can read it before the vote.",
    "A second hearing is planned for the end of the month in the town hall, the clerk said.",
]
PROSE = "\n".join(" ".join(SENTENCES[i:i + 2]) for i in range(0, len(SENTENCES), 2))


def clarity_of(*texts: str) -> np.ndarray:
    return clarity_score(clarity_measures(list(texts)))


def items_of(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts, "data_type": "text"})


def test_soft_steps_hit_their_anchors_and_never_flatten_in_range():
    np.testing.assert_allclose(soft_up([2.0, 3.0], bad=2.0, good=3.0), [0.05, 0.95])
    np.testing.assert_allclose(soft_down([0.1, 0.3], good=0.1, bad=0.3), [0.95, 0.05])
    rising = soft_up(np.linspace(0, 5, 11), bad=2.0, good=3.0)
    assert np.all(np.diff(rising) > 0) and np.all((rising > 0) & (rising < 1))
    assert soft_up([np.nan], 0, 1)[0] == 1.0  # NaN is acceptable, as with the ramps
    assert bell([20.0], 20.0, 0.7)[0] == 1.0 and bell([10.0], 20.0, 0.7)[0] == bell([40.0], 20.0, 0.7)[0]
    assert bell([0.0], 20.0, 0.7)[0] == 0.0
    assert geometric_mean([np.array([1.0]), np.array([0.25])], [1.0, 1.0])[0] == 0.5


def test_passing_texts_get_graded_clarity_in_prose_order():
    headline_list = "\n".join(s.split(",")[0].rstrip(".") for s in SENTENCES)  # headings, no punctuation
    with_figures = PROSE + "\nTotals: 2024 budget 14,550,000; 2023 budget 13,920,000; change 4.5% (630,000)."
    run_on = " and ".join(s.rstrip(".").lower() for s in SENTENCES * 2) + "."  # one 200-word sentence
    scores = clarity_of(PROSE, with_figures, run_on, headline_list)
    assert len(set(scores.round(4))) == 4, scores
    assert 0.85 < scores[0] < 1.0
    assert scores[0] > scores[1] > scores[3], scores  # figures cost a little, a list of headings more
    assert scores[0] > scores[2], scores


def test_clear_failures_still_score_near_zero():
    rng = random.Random(3)
    letters = list(PROSE)
    rng.shuffle(letters)
    keyword_list = ", ".join(["cheap", "replica", "watches", "discount", "luxury"] * 30)
    menu = "\n".join(["Home", "News", "Sport", "Weather", "Contact", "Login"] * 3)
    scores = clarity_of("".join(letters), keyword_list, menu, "")
    assert np.all(scores < 0.3), scores
    assert clarity_of("")[0] == 0.0


def test_validity_gives_partial_credit():
    footer = PROSE + "\nShare this article. Follow us on social media."
    cookie_wall = "We use cookies. Accept all cookies. Manage preferences. Cookie policy. Reject all."
    stuffed = " ".join(["cheap", "watches", "replica", "cheap", "buy", "cheap"] * 20)
    out = quality_signals(items_of([PROSE, footer, cookie_wall, stuffed]), SignalParams(), pd.DataFrame())
    validity = out["validity"].to_numpy()
    assert 0.9 < validity[0] <= 1.0
    assert 0.3 < validity[1] < validity[0], validity  # one furniture line costs some, not all
    assert validity[2] < 0.05 and validity[3] < 0.05, validity
    assert out[["clarity", "validity", "completeness"]].apply(lambda c: c.between(0, 1).all()).all()


def test_quality_of_good_texts_is_not_pinned_at_one():
    texts = [" ".join(SENTENCES[i:] + SENTENCES[:i]) * (1 + i % 3) for i in range(6)]
    out = quality_signals(items_of(texts), SignalParams(), pd.DataFrame())
    quality = quality_score(out)
    assert np.all((quality > 0.8) & (quality < 1.0)), quality
