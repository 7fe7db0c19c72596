"""Listing bot figures: how well rough notes are read, how fast drafts are written, and whether planted
personal data is caught.

Ground truth comes from the demo marketplace's generator (core/sources/demo_web/shop.py), not from the bot:
each demo item's own seller text plus its price as printed on the page is one note ("shop" style); a terse note
built from the same item's facts is another ("terse" style). Per field: how often the bot's value equals the
truth (accuracy over the notes where the truth is stated), and how often the bot states a wrong value
(a wrong value is worse than none: the required-field check asks for a missing one).

    .venv/bin/python bench/bench_listing_bot.py [--items 400]
"""

from __future__ import annotations

import argparse
import random
import re
import time

from core.apps.listings.bot.checks import pii_findings
from core.apps.listings.bot.note import parse_note
from core.apps.listings.bot.service import personal_data_left_out
from core.apps.listings.bot.templates import template_draft
from core.sources.demo_web.shop import MarketplaceSite, _price_text

FIELDS = ("category", "brand", "colour", "condition", "location", "price", "year")


def truth_of(item) -> dict:
    year = re.search(r"Bought in (\d{4})", " ".join(item.description))
    located = re.search(r"Pick-up in (\w+)", " ".join(item.description))
    return {"category": item.category.lower(), "brand": item.brand, "colour": item.colour,
            "condition": {"used": "fair"}.get(item.condition, item.condition),
            "location": located.group(1) if located else None, "price": item.price,
            "year": int(year.group(1)) if year else None}


def shop_note(item) -> str:
    return f"{item.title}. {' '.join(item.description)} {_price_text(item.price, item.number)}"


def terse_note(item, rng: random.Random) -> str:
    price = f"{item.price:.2f} eur".replace(".00 ", " ") if item.price else ""
    parts = [item.title.split(",")[0], item.colour, item.condition, price,
             f"pick-up in {item.location}"]
    rng.shuffle(parts[1:])
    return ", ".join(p for p in parts if p)


def score(notes: list[tuple[str, dict]]) -> dict:
    counts = {f: [0, 0, 0] for f in FIELDS}  # right, stated-but-wrong, truth known
    for note, truth in notes:
        got = parse_note(note).fields
        for name in FIELDS:
            if truth.get(name) is None:
                continue
            counts[name][2] += 1
            value = got.get(name)
            if value is None:
                continue
            same = abs(float(value) - float(truth[name])) < 0.01 if name == "price" else \
                str(value).lower() == str(truth[name]).lower()
            counts[name][0 if same else 1] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=400)
    args = parser.parse_args()
    site = MarketplaceSite(seed=7, scale=args.items / 96)
    items = [site.item(n) for n in range(1, args.items + 1)]
    rng = random.Random(7)
    styles = {"shop": [(shop_note(i), truth_of(i)) for i in items],
              "terse": [(terse_note(i, rng), truth_of(i)) for i in items]}
    # the terse note states the location the item is listed at, not the seller text's pick-up town
    for (_, truth), item in zip(styles["terse"], items, strict=True):
        truth["location"], truth["year"] = item.location, None
    print(f"Note parsing on {len(items)} demo marketplace items (accuracy where the truth is stated; wrong = a "
          "stated value that differs)")
    print(f"{'field':<10}" + "".join(f"{style + ' acc':>12}{style + ' wrong':>13}" for style in styles))
    results = {style: score(notes) for style, notes in styles.items()}
    for name in FIELDS:
        row = f"{name:<10}"
        for style in styles:
            right, wrong, known = results[style][name]
            row += f"{right / known:>12.3f}{wrong / known:>13.3f}" if known else f"{'-':>12}{'-':>13}"
        print(row)

    notes = [n for n, _ in styles["shop"]]
    started = time.perf_counter()
    for note in notes:
        fields = parse_note(note).fields
        template_draft(fields)
    per_draft_ms = (time.perf_counter() - started) * 1000 / len(notes)
    print(f"\nParse + template draft: {per_draft_ms:.2f} ms per note ({len(notes)} notes)")

    in_text = left_out = 0
    for index, note in enumerate(notes):
        planted = f"+31 6 {10000000 + index}" if index % 2 else f"seller{index}@mail.example"
        contact = f" Call {planted}." if index % 2 else f" Mail {planted}."
        fields = parse_note(note + contact).fields
        draft = {**template_draft(fields), "category": fields["category"], "price": fields.get("price")}
        in_text += any(f["text"] == planted for f in pii_findings(draft))
        left_out += any(planted in line for line in personal_data_left_out(note + contact, draft))
    print(f"Planted contact details ({len(notes)} notes): flagged in the drafted text {in_text}, left out of the "
          f"text and reported {left_out}, unaccounted {len(notes) - in_text - left_out}")


if __name__ == "__main__":
    main()
