"""Labelled near-duplicate benchmark: pairwise precision/recall, signature cost and the LSH pass at scale.

Positives are syndication-style copies of an article (header/footer added, a paragraph dropped or moved,
a few words changed); hard negatives are other articles on the same topic written from the same sentence
templates. Base articles come from a template generator, plus (optional) real article bodies from a
ground-truth.json given with --articles, read at run time.

    python3 bench/bench_near_duplicates.py [--articles /path/to/ground-truth.json] [--lsh-docs 100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from core.refine.signals.duplicates import (
    DEFAULT_SHINGLE_SIZE,
    DEFAULT_THRESHOLD,
    minhash_signatures,
    near_duplicate_clusters,
)

_BANK_WORDS = {
    "first": "Maria James Aisha Chen Olivia Rahul Sofia Daniel Fatima Lucas Emma Kwame Yuki Pedro Anna Omar",
    "last": "Garcia Smith Khan Wang Johnson Patel Rossi Brown Okafor Muller Silva Tanaka Novak Haddad Lee",
    "city": "Leeds Denver Lyon Porto Austin Gdansk Osaka Nairobi Bristol Tucson Bremen Adelaide Quebec",
    "company": "Northwind Acme Globex Initech Umbrella Vandelay Stark Wayne Cyberdyne Hooli Soylent",
    "team": "Rovers United Athletic Wanderers Rangers City Albion Dynamo Sporting Olympic",
    "product": "smartphone laptop tablet headset smartwatch router camera drone speaker console",
    "day": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "month": "January February March April May June July August September October November",
}
BANKS = {name: words.split() for name, words in _BANK_WORDS.items()}
TOPICS = {
    "council": [
        "The {city} city council {voted|decided|agreed} on {day} to {approve|reject|delay} a budget of "
        "{n} million.",
        "Councillor {first} {last} said the plan would {protect|expand|cut} services for {n} thousand "
        "residents.",
        "Opponents argued that the {tax|fee|levy} increase would hit families in {city} hardest.",
        "The vote followed {n} hours of debate and a public consultation that ran until {month}.",
        "Spending on parks, schools and public transport is set to {rise|fall} by {n} percent next year.",
        "{first} {last}, who leads the opposition group, called the proposal "
        "{reckless|overdue|a good start}.",
        "Officials expect the new measures to take effect in {month} after a final review.",
        "Residents who attended the meeting in {city} raised concerns about road repairs and housing.",
    ],
    "football": [
        "{city} {team} beat {city} {team} {n}-{n} on {day} in front of {n} thousand fans.",
        "{first} {last} scored {twice|once|a late winner} as the home side {climbed|stayed} in the table.",
        "The manager praised his players for their {discipline|energy|patience} after the final whistle.",
        "It was the {first|third|fifth} win in {n} matches for a squad hit by injuries since {month}.",
        "The visitors had {n} shots on target but could not find a way past the goalkeeper.",
        "{first} {last} was booked in the {n}th minute for a {late|clumsy|cynical} challenge.",
        "Next {day} the team travels to {city}, where it has not won since {month}.",
        "Supporters sang throughout the second half as rain fell on the stadium.",
    ],
    "earnings": [
        "{company} reported {quarterly|annual} revenue of {n} billion dollars on {day}, "
        "{above|below} forecasts.",
        "Chief executive {first} {last} said demand for its {product} remained {strong|weak|steady}.",
        "Shares in {company} {rose|fell|slipped|jumped} {n} percent in early trading in {city}.",
        "The company plans to {hire|cut} {n} thousand jobs over the next {n} months.",
        "Analysts had expected profit of {n} cents per share for the period ending in {month}.",
        "{company} also raised its dividend and announced a buyback of {n} million shares.",
        "Costs for components used in the {product} increased sharply during the quarter.",
        "Investors will watch the next report in {month} for signs of a recovery in sales.",
    ],
    "weather": [
        "A storm brought {n} millimetres of rain to {city} on {day}, flooding several streets.",
        "Forecaster {first} {last} warned that winds could reach {n} kilometres per hour overnight.",
        "Schools in {city} {closed|opened late|stayed open} and trains were {cancelled|delayed}.",
        "Emergency services answered {n} calls from residents whose homes were damaged.",
        "It was the {wettest|coldest|windiest} {month} day recorded in the region for {n} years.",
        "Power was cut to {n} thousand homes before engineers restored most supplies by evening.",
        "Drivers were told to avoid the coast road between {city} and {city} until further notice.",
        "The weather service expects calmer conditions to return by {day}.",
    ],
    "launch": [
        "{company} unveiled a new {product} in {city} on {day}, priced at {n} dollars.",
        "The device has a larger battery and a {brighter|faster|lighter} design than last year's model.",
        "{first} {last}, head of hardware at {company}, said it was built for {gamers|students|travellers}.",
        "Pre-orders open in {month} and the {product} ships to {n} countries in the first wave.",
        "Reviewers who tried it said the {camera|screen|keyboard} was the biggest improvement.",
        "Rival makers are expected to respond with cheaper models before the holiday season.",
        "The launch event in {city} drew {n} hundred developers and journalists.",
        "{company} said software updates would be provided for at least {n} years.",
    ],
}
HEADERS = ["By {first} {last}, Staff Reporter | Updated {day} {n}:{n} GMT",
           "{city} Daily Herald - Home > News > Local > Latest",
           "This article originally appeared on the {city} Courier. Republished with permission."]
FOOTERS = ["Copyright {company} Media Group. All rights reserved. This material may not be published, "
           "broadcast, rewritten or redistributed without permission.",
           "Sign up for our morning newsletter to get the latest headlines from {city} delivered to your "
           "inbox every day. Follow us on social media for breaking news alerts.",
           "Reporting by {first} {last}; editing by {first} {last}. Contact the newsroom with corrections."]
_SLOT = re.compile(r"\{([^}]+)\}")


def fill(template: str, rng: random.Random) -> str:
    def slot(match: re.Match) -> str:
        name = match.group(1)
        if "|" in name:
            return rng.choice(name.split("|"))
        return str(rng.randint(2, 99)) if name == "n" else rng.choice(BANKS[name])
    return _SLOT.sub(slot, template)


def generate_article(topic: str, rng: random.Random) -> str:
    templates = TOPICS[topic]
    paragraphs = [" ".join(fill(rng.choice(templates), rng) for _ in range(rng.randint(2, 4)))
                  for _ in range(rng.randint(5, 8))]
    return "\n\n".join(paragraphs)


def syndicate(article: str, rng: random.Random, vocabulary: list[str]) -> str:
    """A copy with 1-3 of the edits syndication makes."""
    paragraphs = article.split("\n\n")
    for edit in rng.sample(["header", "footer", "drop", "move", "words"], rng.randint(1, 3)):
        if edit == "header":
            paragraphs.insert(0, fill(rng.choice(HEADERS), rng))
        elif edit == "footer":
            paragraphs.append(fill(rng.choice(FOOTERS), rng))
        elif edit == "drop" and len(paragraphs) > 3:
            paragraphs.pop(rng.randrange(len(paragraphs)))
        elif edit == "move" and len(paragraphs) > 2:
            paragraphs.insert(rng.randrange(len(paragraphs)), paragraphs.pop(rng.randrange(len(paragraphs))))
        elif edit == "words":
            words = "\n\n".join(paragraphs).split(" ")
            for _ in range(rng.randint(2, 6)):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            paragraphs = " ".join(words).split("\n\n")
    return "\n\n".join(paragraphs)


def labelled_corpus(bases: int, seed: int, real_articles: list[str]) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    vocabulary = sorted({word for bank in BANKS.values() for word in bank})
    originals = [generate_article(rng.choice(list(TOPICS)), rng) for _ in range(bases)] + real_articles
    texts, groups = [], []
    for group, article in enumerate(originals):
        texts.append(article)
        groups.append(group)
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 3)):
                texts.append(syndicate(article, rng, vocabulary))
                groups.append(group)
    return texts, groups


def pair_count(sizes) -> int:
    return sum(size * (size - 1) // 2 for size in sizes)


def pairwise_scores(predicted: np.ndarray, truth: list[int]) -> tuple[float, float]:
    true_positive = pair_count(Counter(zip(predicted, truth, strict=True)).values())
    predicted_pairs, true_pairs = pair_count(Counter(predicted).values()), pair_count(Counter(truth).values())
    return true_positive / max(predicted_pairs, 1), true_positive / max(true_pairs, 1)


def load_real_articles(path: str | None) -> list[str]:
    if not path:
        return []
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    bodies = [record.get("articleBody") or "" for record in records.values()]
    return [body for body in bodies if len(body) > 500]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", help="ground-truth.json; its articleBody texts join the base articles")
    parser.add_argument("--bases", type=int, default=1500, help="generated base articles in the labelled set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lsh-docs", type=int, default=100_000, help="documents for the LSH timing pass")
    parser.add_argument("--sweep", action="store_true", help="also sweep thresholds and shingle sizes")
    args = parser.parse_args()

    texts, groups = labelled_corpus(args.bases, args.seed, load_real_articles(args.articles))
    ids = [f"doc{index:07d}" for index in range(len(texts))]
    print(f"labelled set: {len(texts)} docs, {len(set(groups))} families, "
          f"{pair_count(Counter(groups).values())} true duplicate pairs, "
          f"mean {np.mean([len(text) for text in texts]):.0f} chars")
    if args.sweep:
        for shingle_size, threshold in itertools.product((3, 4, 5, 6, 7), (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)):
            signatures = minhash_signatures(texts, shingle_size=shingle_size)
            precision, recall = pairwise_scores(near_duplicate_clusters(ids, signatures, threshold), groups)
            print(f"  shingle {shingle_size} threshold {threshold:.2f}: "
                  f"precision {precision:.3f} recall {recall:.3f}")

    started = time.perf_counter()
    signatures = minhash_signatures(texts, shingle_size=DEFAULT_SHINGLE_SIZE)
    signature_seconds = time.perf_counter() - started
    clusters = near_duplicate_clusters(ids, signatures, DEFAULT_THRESHOLD)
    precision, recall = pairwise_scores(clusters, groups)
    print(f"default (shingle {DEFAULT_SHINGLE_SIZE}, threshold {DEFAULT_THRESHOLD}): pairwise precision "
          f"{precision:.3f} (target >= 0.95), recall {recall:.3f} (target >= 0.90)")
    print(f"signatures: {signature_seconds / len(texts) * 1000:.3f} ms/doc over {len(texts)} docs")

    rng = random.Random(args.seed + 1)
    batch = [generate_article(rng.choice(list(TOPICS)), rng) for _ in range(2000)]
    three_kb = [(text * (3000 // max(len(text), 1) + 1))[:3000] for text in batch]
    started, started_cpu = time.perf_counter(), time.process_time()
    minhash_signatures(three_kb)
    wall_ms = (time.perf_counter() - started) / len(three_kb) * 1000
    cpu_ms = (time.process_time() - started_cpu) / len(three_kb) * 1000
    print(f"signatures on 3 KB docs: {wall_ms:.3f} ms/doc wall, {cpu_ms:.3f} ms/doc CPU")

    if args.lsh_docs <= 0:
        return
    # Same mix as the labelled set (about 1 in 4 documents is a syndicated copy), at scale.
    big_texts, big_groups = labelled_corpus(int(args.lsh_docs / 1.45), args.seed + 2, [])
    big_texts, big_groups = big_texts[:args.lsh_docs], big_groups[:args.lsh_docs]
    started = time.perf_counter()
    big = minhash_signatures(big_texts)
    print(f"built {len(big)} signatures in {time.perf_counter() - started:.1f} s")
    big_ids = [f"id{index:07d}" for index in range(len(big))]
    started, started_cpu = time.perf_counter(), time.process_time()
    big_clusters = near_duplicate_clusters(big_ids, big, DEFAULT_THRESHOLD)
    lsh_seconds, lsh_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    precision, recall = pairwise_scores(big_clusters, big_groups)
    print(f"LSH pass over {len(big)} docs: {lsh_seconds:.2f} s wall, {lsh_cpu:.2f} s CPU "
          f"(precision {precision:.3f}, recall {recall:.3f})")

if __name__ == "__main__":
    main()
