"""Scoring of the article and listing extractors against labelled page sets.

The rules follow the benchmark data README exactly (shingle multisets for article text, per-field
exact match for listings) so the bench script and the regression test report the same figures.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.sources.extract_article import extract_article
from core.sources.extract_listing import extract_listing
from core.sources.html_text import read_html_file
from core.values import normalise_currency

LISTING_SCORED_FIELDS = ("price", "availability", "sku", "brand", "gtin", "mpn", "currency")
_WORD = re.compile(r"\w+")
_SHINGLE_SIZE = 4


@dataclass
class FieldCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return f1_score(self.precision, self.recall)


@dataclass
class ArticleScores:
    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)

    def add(self, predicted: str, expected: str) -> tuple[float, float]:
        precision, recall = shingle_precision_recall(predicted, expected)
        self.precisions.append(precision)
        self.recalls.append(recall)
        return precision, recall

    @property
    def precision(self) -> float:
        return sum(self.precisions) / len(self.precisions) if self.precisions else 0.0

    @property
    def recall(self) -> float:
        return sum(self.recalls) / len(self.recalls) if self.recalls else 0.0

    @property
    def f1(self) -> float:
        return f1_score(self.precision, self.recall)


def f1_score(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _shingles(text: str) -> Counter:
    tokens = _WORD.findall(text or "")
    return Counter(
        tuple(tokens[i:i + _SHINGLE_SIZE]) for i in range(max(len(tokens) - _SHINGLE_SIZE + 1, 0))
    )


def shingle_precision_recall(predicted: str, expected: str) -> tuple[float, float]:
    """Per-page precision and recall of 4-token shingle multisets; an empty prediction scores 0/0."""
    predicted_shingles, expected_shingles = _shingles(predicted), _shingles(expected)
    if not predicted_shingles:
        return 0.0, 0.0
    shared = sum((predicted_shingles & expected_shingles).values())
    precision = shared / sum(predicted_shingles.values())
    recall = shared / sum(expected_shingles.values()) if expected_shingles else 0.0
    return precision, recall


def _as_decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def listing_value_matches(field_name: str, predicted, expected_values: list) -> bool:
    if field_name == "price":
        predicted_number = _as_decimal(predicted)
        return predicted_number is not None and any(
            predicted_number == _as_decimal(value) for value in expected_values
        )
    return any(str(predicted) == str(value) for value in expected_values)


def score_listing_field(counts: FieldCounts, field_name: str, predicted, expected_values: list | None) -> str:
    """Add one page's outcome to `counts` and return it ("tp", "fp", "fn", "fp+fn" or "tn")."""
    has_prediction = predicted is not None and str(predicted).strip() != ""
    if not expected_values:
        if has_prediction:
            counts.fp += 1
            return "fp"
        return "tn"
    if not has_prediction:
        counts.fn += 1
        return "fn"
    if listing_value_matches(field_name, predicted, expected_values):
        counts.tp += 1
        return "tp"
    # A wrong value is both given-but-wrong and expected-but-not-matched.
    counts.fp += 1
    counts.fn += 1
    return "fp+fn"


def load_labelled_pages(set_dir: str | Path) -> list[tuple[str, dict, Path]]:
    """(page id, ground truth, html path) for every labelled page of a benchmark set, sorted by id."""
    set_dir = Path(set_dir)
    truth_path = set_dir / "ground-truth.json"
    if not truth_path.is_file():
        raise FileNotFoundError(f"{truth_path} not found: expected a benchmark set with ground-truth.json")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        html_path = set_dir / "html" / f"{page_id}.html.gz"
        if html_path.is_file():
            pages.append((page_id, truth[page_id], html_path))
    return pages


@dataclass
class PageResult:
    page_id: str
    url: str | None
    seconds: float
    outcome: dict  # article: {"precision", "recall"}; listing: {field: "tp"|"fp"|"fn"|"fp+fn"|"tn"}
    predicted: dict
    expected: dict


@dataclass
class ArticleRun:
    scores: ArticleScores
    pages: list[PageResult]


@dataclass
class ListingRun:
    counts: dict[str, FieldCounts]
    pages: list[PageResult]


def _timed_extractions(extract, set_dir: str | Path):
    """(page id, truth, extractor output, seconds) for every labelled page of a set, timing only the extractor.

    One untimed call comes first, so lazy imports and caches are not billed to the first page."""
    labelled_pages = load_labelled_pages(set_dir)
    if labelled_pages:
        _, truth, html_path = labelled_pages[0]
        extract(read_html_file(html_path), truth.get("url"))
    for page_id, truth, html_path in labelled_pages:
        html = read_html_file(html_path)
        started = time.perf_counter()
        result = extract(html, truth.get("url"))
        yield page_id, truth, result, time.perf_counter() - started


def run_article_benchmark(set_dir: str | Path) -> ArticleRun:
    """Extract every labelled article page and score its text against the ground truth."""
    scores, pages = ArticleScores(), []
    for page_id, truth, article, seconds in _timed_extractions(extract_article, set_dir):
        precision, recall = scores.add(article["text"], truth.get("articleBody", ""))
        outcome = {"precision": precision, "recall": recall}
        pages.append(PageResult(page_id, truth.get("url"), seconds, outcome,
                                {"text": article["text"]}, {"text": truth.get("articleBody", "")}))
    return ArticleRun(scores, pages)


def expected_listing_values(truth: dict, field_name: str) -> list:
    """Ground-truth values of one field; currency symbols are mapped to the ISO codes we output."""
    values = truth.get(field_name) or []
    if field_name == "currency":
        mapped = [normalise_currency(value, truth.get("url")) or value for value in values]
        return list(dict.fromkeys(mapped))
    return values


def run_listing_benchmark(set_dir: str | Path) -> ListingRun:
    """Extract every labelled product page and score each field against the ground truth."""
    counts = {name: FieldCounts() for name in LISTING_SCORED_FIELDS}
    pages = []
    for page_id, truth, listing, seconds in _timed_extractions(extract_listing, set_dir):
        expected = {name: expected_listing_values(truth, name) for name in LISTING_SCORED_FIELDS}
        outcome = {
            name: score_listing_field(counts[name], name, listing.get(name), expected[name])
            for name in LISTING_SCORED_FIELDS
        }
        pages.append(PageResult(page_id, truth.get("url"), seconds, outcome, listing, expected))
    return ListingRun(counts, pages)
