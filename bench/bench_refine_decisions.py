"""Do the refinement decisions keep good articles, drop junk and keep one copy per duplicate group?

Builds a labelled mix from real pages (the set is read from the path given; nothing is copied):
- good: the article bodies of ground-truth.json;
- bad: navigation, header, footer and cookie/consent blocks cut out of the same pages' HTML, plus
  generated short error/paywall/login pages and keyword-stuffed spam;
- duplicate groups: for every other article, an exact copy and a syndicated copy (credit line, footer,
  reflowed whitespace) besides the original; exactly one member of each group must survive.
Runs file-mode refine with the given recipe (default: the shipped news recipe) and prints the shares.

    python bench/bench_refine_decisions.py ../shared/benchdata/articles-dev [--recipe R.yaml] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import pandas as pd
from lxml import html as lxml_html

from core.refine.filemode import refine_file
from core.refine.recipe import RECIPES_DIR
from core.sources.html_text import read_html_file

MIN_BLOCK_CHARS = 40
FURNITURE_XPATH = (
    "//nav | //header | //footer | //*[@role='navigation' or @role='banner' or @role='contentinfo']"
    " | //*[contains(translate(@id, 'COKIENST', 'cokienst'), 'cookie')"
    " or contains(translate(@class, 'COKIENST', 'cokienst'), 'cookie')"
    " or contains(translate(@id, 'CONSET', 'conset'), 'consent')"
    " or contains(translate(@class, 'CONSET', 'conset'), 'consent')]"
)
ERROR_PAGES = [
    "404 Not Found\nThe page you are looking for might have been removed or is temporarily unavailable.\n"
    "Go to homepage",
    "Page not found\nSorry, we couldn't find the page you requested. Try searching or go back home.",
    "Error 500 - Internal Server Error\nSomething went wrong on our end. Please try again later.",
    "Access denied\nYou don't have permission to access this page on this server.",
    "Subscribe to continue reading\nThis article is for subscribers only. Already a subscriber? Sign in.\n"
    "Get unlimited access for $1 a week.",
    "To continue reading, please log in or create an account.\nForgot password?\nSign up for free",
    "Please enable JavaScript to view this page.\nChecking your browser before accessing the site.",
    "Are you a robot?\nVerify you are human by completing the action below.",
    "This content is for subscribers. Become a member today and unlock this article and all premium content.",
    "Seite nicht gefunden\nDie angeforderte Seite existiert nicht. Zur Startseite",
    "Page introuvable\nLa page que vous recherchez n'existe pas ou a été déplacée. Retour à l'accueil",
    "Service unavailable\nThe server is temporarily unable to service your request. Please try again later.",
]
SPAM_KEYWORDS = [
    ["cheap", "watches", "replica", "luxury", "discount", "buy"],
    ["casino", "bonus", "free", "spins", "online", "jackpot"],
    ["weight", "loss", "pills", "diet", "fast", "natural"],
    ["loans", "payday", "credit", "cash", "instant", "approval"],
    ["seo", "backlinks", "ranking", "traffic", "google", "cheap"],
    ["shoes", "sale", "outlet", "nike", "cheap", "online"],
]
SYNDICATORS = ["Associated Wire", "Daily Digest Network", "NewsFeed Partners", "The Morning Syndicate"]


def furniture_blocks(page_path: Path) -> list[str]:
    """Text of navigation, header, footer and cookie/consent elements of one page (outermost only)."""
    tree = lxml_html.fromstring(read_html_file(page_path))
    for junk in tree.xpath("//script | //style | //noscript"):
        junk.drop_tree()
    blocks, seen = [], set()
    for element in tree.xpath(FURNITURE_XPATH):
        if any(ancestor in seen for ancestor in element.iterancestors()):
            continue
        seen.add(element)
        lines = [" ".join(t.split()) for t in element.itertext()]
        text = "\n".join(line for line in lines if line)
        if len(text) >= MIN_BLOCK_CHARS:
            blocks.append(text[:5000])
    return blocks


def spam_page(rng: random.Random) -> str:
    words = rng.choice(SPAM_KEYWORDS)
    phrases = [" ".join(rng.sample(words, rng.randint(2, 4))) for _ in range(rng.randint(25, 60))]
    separator = rng.choice([", ", " | ", " - ", "\n"])
    return f"{words[0].title()} {words[1]} {words[2]}!!! " + separator.join(phrases)


def syndicated_copy(body: str, rng: random.Random) -> str:
    source = rng.choice(SYNDICATORS)
    reflowed = "\n\n".join(" ".join(p.split()) for p in body.split("\n") if p.strip())
    credit = f"This story originally appeared on {source}."
    return f"{credit}\n\n{reflowed}\n\n(c) 2019 {source}. Republished with permission."


def build_mix(set_dir: Path, seed: int) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    truth = json.loads((set_dir / "ground-truth.json").read_text(encoding="utf-8"))
    items, labels = [], {"good": [], "bad": [], "groups": []}
    for number, (page_id, record) in enumerate(sorted(truth.items())):
        body = record["articleBody"]
        original = f"article-{number:03d}"
        items.append({"id": original, "text": body, "url": record.get("url")})
        group = [original]
        if number % 2 == 0:
            for kind, text in (("exact", body), ("syndicated", syndicated_copy(body, rng))):
                copy_id = f"copy-{kind}-{number:03d}"
                items.append({"id": copy_id, "text": text})
                group.append(copy_id)
            labels["groups"].append(group)
        labels["good"].append(group)
        for k, block in enumerate(furniture_blocks(set_dir / "html" / f"{page_id}.html.gz")):
            block_id = f"furniture-{number:03d}-{k}"
            items.append({"id": block_id, "text": block})
            labels["bad"].append(block_id)
    for k, page in enumerate(ERROR_PAGES):
        items.append({"id": f"error-{k:03d}", "text": page})
        labels["bad"].append(f"error-{k:03d}")
    for k in range(20):
        items.append({"id": f"spam-{k:03d}", "text": spam_page(rng)})
        labels["bad"].append(f"spam-{k:03d}")
    return items, labels


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("set_dir", type=Path, nargs="?", default=Path("../shared/benchdata/articles-dev"))
    parser.add_argument("--recipe", type=Path, default=RECIPES_DIR / "news.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--show-errors", action="store_true", help="list every wrong decision with its reason"
    )
    args = parser.parse_args()
    if not (args.set_dir / "ground-truth.json").exists():
        print(f"error: no ground-truth.json under {args.set_dir}", file=sys.stderr)
        return 2
    items, labels = build_mix(args.set_dir, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-decisions-") as workdir:
        source = Path(workdir) / "mix.jsonl"
        source.write_text(
            "\n".join(json.dumps(item, ensure_ascii=False) for item in items) + "\n", encoding="utf-8"
        )
        summary = refine_file(source, Path(workdir) / "out", args.recipe, use_cache=False)
        decisions = pd.read_parquet(Path(workdir) / "out" / "decisions.parquet").set_index("id")
    kept = decisions["kept"].to_dict()
    reason = decisions["drop_reason"].to_dict()
    good_kept = [group for group in labels["good"] if any(kept[i] for i in group)]
    bad_dropped = [i for i in labels["bad"] if not kept[i]]
    one_survivor = [group for group in labels["groups"] if sum(kept[i] for i in group) == 1]
    print(
        f"Labelled mix from {args.set_dir}: {len(items)} items - {len(labels['good'])} good articles, "
        f"{len(labels['bad'])} bad ({sum(i.startswith('furniture') for i in labels['bad'])} page-furniture "
        f"blocks, {len(ERROR_PAGES)} error/paywall pages, 20 spam), {len(labels['groups'])} duplicate groups"
    )
    print(f"Recipe: {summary['recipe']['name']} ({summary['recipe']['hash']})")
    print(f"good kept:                        {len(good_kept) / len(labels['good']):6.1%}  (target >= 90%)")
    print(f"bad dropped:                      {len(bad_dropped) / len(labels['bad']):6.1%}  (target >= 90%)")
    print(
        f"duplicate groups with 1 survivor: {len(one_survivor) / len(labels['groups']):6.1%}  (target >= 90%)"
    )
    print("drop reasons:", json.dumps(summary["drop_reasons"]))
    if args.show_errors:
        texts = {item["id"]: item["text"] for item in items}
        for group in labels["good"]:
            if not any(kept[i] for i in group):
                print(f"  good dropped: {group[0]} ({reason[group[0]]}): {texts[group[0]][:90]!r}")
        for item_id in labels["bad"]:
            if kept[item_id]:
                print(f"  bad kept: {item_id}: {texts[item_id][:90]!r}")
        for group in labels["groups"]:
            survivors = [i for i in group if kept[i]]
            if len(survivors) != 1:
                print(f"  group {group[0]}: {len(survivors)} survivors {survivors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
