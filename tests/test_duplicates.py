"""Exact hashes, MinHash signatures, near-duplicate clusters and listing relists on crafted inputs."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from core.refine.signals.duplicates import (
    DEFAULT_THRESHOLD,
    clusters_from_pairs,
    exact_hashes,
    listing_relist_clusters,
    minhash_signatures,
    near_duplicate_clusters,
)
from core.refine.signals.minhash import (
    EMPTY_SIGNATURE_VALUE,
    estimated_jaccard,
    lsh_candidate_pairs,
    lsh_parameters,
    tokenize,
)

ARTICLE = (
    "The city council voted on Tuesday to approve a budget of 42 million that expands services for "
    "residents. Councillor Maria Garcia said the plan would protect libraries and add bus routes in the "
    "northern districts. Opponents argued that the fee increase would hit families in Leeds hardest during a "
    "difficult winter.\n\n"
    "The vote followed nine hours of debate and a public consultation that ran until March with hundreds of "
    "comments. Spending on parks, schools and public transport is set to rise by six percent next year.\n\n"
    "James Smith, who leads the opposition group, called the proposal reckless and promised to review it. "
    "Officials expect the new measures to take effect in April after a final review by the finance "
    "committee.\n\n"
    "Residents who attended the meeting raised concerns about road repairs, housing and the cost of parking."
)
SYNDICATED = (
    "By Staff Reporter | Updated Wednesday 09:12 GMT\n\n"
    + ARTICLE.replace("nine hours", "ten hours").replace("reckless", "careless")
    + "\n\nCopyright Example Media Group. All rights reserved."
)
OTHER_TOPIC = (
    "Rovers beat United 3-1 on Saturday in front of twenty thousand fans at a rain-soaked stadium. Daniel "
    "Lee scored twice as the home side climbed to third in the table after a difficult start to the season. "
    "The manager praised the discipline of his young defenders and the energy of the substitutes in the "
    "final minutes. The visitors had seven shots on target but could not find a way past the goalkeeper all "
    "afternoon."
)
SAME_TOPIC_OTHER_ARTICLE = (
    "The Denver city council delayed on Friday a vote on a budget of 17 million for road maintenance and "
    "snow clearing. Councillor Chen Wang said residents deserved more time to comment on the tax changes. "
    "Several business owners asked for parking fees to be frozen until the new tram line opens next spring."
)


def test_exact_hash_ignores_case_whitespace_and_punctuation():
    texts = pd.Series(["Hello, World!", "hello world", "  HELLO\n\t world ", "Hello world?!", "Hello there"],
                      index=[10, 11, 12, 13, 14])
    hashes = exact_hashes(texts)
    assert list(hashes.index) == [10, 11, 12, 13, 14]
    assert hashes.iloc[0] == hashes.iloc[1] == hashes.iloc[2] == hashes.iloc[3]
    assert hashes.iloc[4] != hashes.iloc[0]
    assert all(isinstance(value, str) and len(value) == 32 for value in hashes)


def test_exact_hash_of_missing_empty_emoji_and_mixed_scripts():
    hashes = exact_hashes(pd.Series(["", None, float("nan"), "😀😀", "你好，世界", "你好 世界", "Привет мир",
                                     "word"]))
    assert hashes.iloc[0] == hashes.iloc[1] == hashes.iloc[2]
    assert hashes.iloc[3] != hashes.iloc[0], "emoji-only text is content, not empty"
    assert hashes.iloc[4] == hashes.iloc[5], "CJK punctuation and spacing are normalized away"
    assert len(set(hashes.iloc[[0, 3, 4, 6, 7]])) == 5
    assert exact_hashes(pd.Series([], dtype=object)).empty


def test_tokenize_splits_unspaced_scripts_and_drops_punctuation():
    assert tokenize("Hello, World! It's 3.5%") == [b"hello", b"world", b"it", b"s", b"3", b"5"]
    assert tokenize("你好世界") == [char.encode() for char in "你好世界"]
    assert tokenize("") == []
    assert tokenize("😀") == ["😀".encode()]


def test_signature_shape_dtype_and_determinism():
    texts = [ARTICLE, "", "single", "😀", "Привет мир, это тест", "你好世界，今天天气很好"]
    first = minhash_signatures(texts, num_perm=64, shingle_size=3, seed=5)
    again = minhash_signatures(list(reversed(texts)), num_perm=64, shingle_size=3, seed=5)[::-1]
    assert first.shape == (6, 64) and first.dtype == np.uint32
    np.testing.assert_array_equal(first, again)
    assert (first[1] == EMPTY_SIGNATURE_VALUE).all(), "empty text has the empty marker"
    assert not (first[[0, 2, 3, 4, 5]] == EMPTY_SIGNATURE_VALUE).all(axis=1).any()
    assert not np.array_equal(first, minhash_signatures(texts, num_perm=64, shingle_size=3, seed=6))
    assert minhash_signatures([], num_perm=16).shape == (0, 16)


def test_signature_rejects_bad_parameters():
    with pytest.raises(ValueError, match="num_perm"):
        minhash_signatures(["a"], num_perm=0)
    with pytest.raises(ValueError, match="shingle_size"):
        minhash_signatures(["a"], shingle_size=0)


def test_estimated_jaccard_tracks_true_jaccard():
    words = ARTICLE.split()
    edited = words[:60] + words[80:]
    shingles = [{tuple(tokens[i:i + 5]) for i in range(len(tokens) - 4)}
                for tokens in (tokenize(" ".join(words)), tokenize(" ".join(edited)))]
    true_jaccard = len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])
    signatures = minhash_signatures([" ".join(words), " ".join(edited)], num_perm=512)
    estimate = estimated_jaccard(signatures, np.array([[0, 1]]))[0]
    assert abs(estimate - true_jaccard) < 0.08


def test_five_megabytes_of_one_line_finishes_fast():
    text = "the quick brown fox jumps over the lazy dog 42\n" * 110_000
    started = time.perf_counter()
    signature = minhash_signatures([text, "the quick brown fox jumps over the lazy dog 42"])
    hashes = exact_hashes(pd.Series([text]))
    assert time.perf_counter() - started < 20
    assert len(text) > 5_000_000 and hashes.iloc[0]
    # Only 9 distinct shingles, all shared with the single line: almost identical signatures.
    assert estimated_jaccard(signature, np.array([[0, 1]]))[0] > 0.5


def test_syndicated_copies_cluster_and_other_articles_do_not():
    ids = ["c", "a", "b", "d", "e"]
    texts = [SYNDICATED, ARTICLE, OTHER_TOPIC, SAME_TOPIC_OTHER_ARTICLE, ""]
    clusters = near_duplicate_clusters(ids, minhash_signatures(texts))
    assert list(clusters) == ["a", "a", "b", "d", "e"]


def test_cluster_ids_are_deterministic_and_order_independent():
    rng = np.random.default_rng(0)
    texts = [ARTICLE, SYNDICATED, OTHER_TOPIC, OTHER_TOPIC + " Full report to follow.",
             SAME_TOPIC_OTHER_ARTICLE]
    ids = ["k7", "k2", "k9", "k3", "k5"]
    expected = dict(zip(ids, near_duplicate_clusters(ids, minhash_signatures(texts)), strict=True))
    assert expected == {"k7": "k2", "k2": "k2", "k9": "k3", "k3": "k3", "k5": "k5"}
    for _ in range(3):
        order = rng.permutation(len(ids))
        shuffled_ids = [ids[i] for i in order]
        clusters = near_duplicate_clusters(shuffled_ids, minhash_signatures([texts[i] for i in order]))
        assert dict(zip(shuffled_ids, clusters, strict=True)) == expected


def test_empty_texts_are_never_near_duplicates_of_each_other():
    clusters = near_duplicate_clusters(["x", "y", "z"], minhash_signatures(["", "", "   "]))
    assert list(clusters) == ["x", "y", "z"]


def test_mixed_script_near_duplicates():
    chinese = ("市议会周二投票通过了一项新的预算，将增加公园、学校和公共交通的支出，"
               "同时在未来两年内削减行政成本。") * 2
    russian = ("Городской совет во вторник одобрил новый бюджет, который увеличивает расходы на парки и "
               "школы. Депутаты спорили девять часов, а жители района оставили сотни комментариев о дорогах "
               "и жилье. Новые меры вступят в силу в апреле после окончательной проверки комитета.")
    texts = [chinese, "新华社电：" + chinese, russian, russian.replace("девять", "десять"), OTHER_TOPIC]
    clusters = near_duplicate_clusters(["1", "2", "3", "4", "5"], minhash_signatures(texts))
    assert list(clusters) == ["1", "1", "3", "3", "5"]


def test_large_bucket_of_copies_becomes_one_cluster():
    ids = [f"doc{index:03d}" for index in range(150)]
    texts = [ARTICLE] * 100 + [f"{OTHER_TOPIC} Report number {index} of {index * 7} words."
                               for index in range(50)]
    clusters = near_duplicate_clusters(ids, minhash_signatures(texts))
    assert set(clusters[:100]) == {"doc000"}
    assert set(clusters[100:]) == {"doc100"}, "the football reports differ only in one sentence"


def test_lsh_parameters_and_candidates():
    bands, rows = lsh_parameters(DEFAULT_THRESHOLD, 128)
    assert bands * rows <= 128
    assert lsh_parameters(0.9, 128)[1] > lsh_parameters(0.3, 128)[1], "higher threshold, longer bands"
    signatures = minhash_signatures([ARTICLE, SYNDICATED, OTHER_TOPIC])
    pairs = lsh_candidate_pairs(signatures, bands, rows)
    assert [0, 1] in pairs.tolist() and pairs.dtype == np.int64
    with pytest.raises(ValueError, match="permutations"):
        lsh_candidate_pairs(signatures, 64, 4)
    with pytest.raises(ValueError, match="threshold"):
        lsh_parameters(0.0, 128)


def test_near_duplicate_clusters_rejects_bad_input():
    signatures = minhash_signatures(["a b c", "d e f"])
    with pytest.raises(ValueError, match="2 signature rows"):
        near_duplicate_clusters(["a"], signatures)
    with pytest.raises(ValueError, match="unique"):
        near_duplicate_clusters(["a", "a"], signatures)
    with pytest.raises(ValueError, match="2-D"):
        near_duplicate_clusters(["a", "b"], signatures[0])
    assert near_duplicate_clusters([], minhash_signatures([])).tolist() == []


def test_clusters_from_pairs_names_each_cluster_by_smallest_id():
    clusters = clusters_from_pairs(["b", "a", "d", "c", "e"], np.array([[0, 1], [2, 3], [3, 0]]))
    assert list(clusters) == ["a", "a", "a", "a", "e"]


def _listings(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": item_id, "text": "", "title": title, "data_type": data_type, "fields": fields,
          "source_app": "marketplace", "url": None} for item_id, title, data_type, fields in rows],
        index=[100 + position for position in range(len(rows))],
    )


def test_listing_relists_cluster_on_fuzzy_title_price_and_location():
    items = _listings([
        ("l5", "2 bed flat in Soho with balcony", "listing",
         {"price": 1500, "location": "Soho, London", "currency": "GBP"}),
        ("l2", "REDUCED! 2 Bed Flat in Soho - with balcony", "listing",
         {"price": 1395.0, "location": "soho london", "currency": "GBP"}),
        ("l3", "3 bed flat in Soho with balcony", "listing", {"price": 1500, "location": "Soho, London"}),
        ("l4", "2 bed flat in Soho with balcony", "listing", {"price": 1500, "location": "Camden, London"}),
        ("l1", "2 bed flat in Soho with balcony", "listing", {"price": 2600, "location": "Soho, London"}),
        ("l6", "2 bed flat in Soho with balcony", "text", {"price": 1500, "location": "Soho, London"}),
        ("l7", "2 bed flat in Soho with balcony", "listing", None),
        ("l8", "Vintage oak dining table", "listing", {"price": 1500, "location": "Soho, London"}),
        ("l9", "2 bed flat in Soho with balcony", "listing",
         {"price": 1480, "location": "Soho London", "currency": "GBP", "beds": 2.0}),
        ("l0", "2 bed flat in Soho with balcony", "listing",
         {"price": 1480, "location": "Soho London", "currency": "EUR"}),
    ])
    clusters = listing_relist_clusters(items)
    assert list(clusters.index) == list(items.index)
    assert clusters.to_dict() == {
        100: "l2", 101: "l2", 102: "l3", 103: "l4", 104: "l1", 105: "l6", 106: "l7", 107: "l8", 108: "l2",
        109: "l0",
    }


def test_listing_relists_split_on_conflicting_typed_fields():
    flat = {"price": 900, "location": "Lyon", "currency": "EUR"}
    items = _listings([
        ("a", "Flat near the station", "listing", {**flat, "beds": 2}),
        ("b", "Flat near the station", "listing", {**flat, "beds": 2.0}),
        ("c", "Flat near the station", "listing", {**flat, "beds": 3}),
        ("d", "Flat near the station", "listing", {**flat, "currency": None, "category": "rent"}),
        ("e", "Flat near the station", "listing", {**flat, "currency": None, "category": "sale"}),
    ])
    assert listing_relist_clusters(items).tolist() == ["a", "a", "c", "d", "e"]


def test_listing_relists_survive_bad_fields_and_reject_missing_ids():
    items = _listings([
        ("a", None, "listing", {"price": "n/a", "location": "Paris"}),
        ("b", "Bike", "listing", {"price": float("nan"), "location": "Paris"}),
        ("c", "Bike", "listing", {"price": -5, "location": "Paris"}),
        ("d", "Bike", "listing", "not a dict"),
    ])
    assert listing_relist_clusters(items).tolist() == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="'id'"):
        listing_relist_clusters(items.drop(columns=["id"]))
