"""Do the quality sub-scores tell items apart? Distribution and separation of quality, clarity, validity.

For each score it prints quantiles and the share of items at exactly 0 and exactly 1 (a score that is 1 for
almost every item carries no information for a histogram or a slider), then how well the score separates
labelled good items from planted bad ones (ROC AUC: the chance that a random good item outscores a random
bad one; ties count half).

Sets (nothing is copied into the project; the benchmark data is read from the path given):
- demo: articles of the demo news site (all six languages, planted spam and short pages), extracted from
  their HTML as a crawl would; good = normal articles, bad = spam and short pages;
- articles: the article bodies of articles-dev (good) mixed with page-furniture blocks, error/paywall pages
  and spam cut from or generated next to the same pages (as bench_refine_decisions builds it), plus
  truncated articles (first dozen words) and gibberish (letters shuffled within the text), both bad;
- bbc: the 1,062 BBC articles of topics-dev.csv (all good: only the distribution is shown).

    python bench/bench_quality_spread.py ../shared/benchdata
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_refine_decisions import build_mix  # noqa: E402 - a sibling bench script, not a package

from core.refine.signals.base import SignalParams  # noqa: E402
from core.refine.signals.quality import quality_score, quality_signals  # noqa: E402
from core.sources.demo_web.news import NewsSite  # noqa: E402
from core.sources.extract_article import extract_article  # noqa: E402

SCORES = ("quality", "clarity", "validity", "completeness")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def demo_items(scale: float) -> pd.DataFrame:
    site = NewsSite(seed=1, scale=scale)
    rows = []
    for path, article in site.entries():
        response = site.handle(path, {})
        extracted = extract_article(response.body, f"http://127.0.0.1{path}")
        rows.append({"id": path, "text": extracted["text"], "title": extracted["title"], "data_type": "text",
                     "good": article.variant == "normal", "kind": article.variant})
    return pd.DataFrame(rows)


def truncated(text: str, rng: random.Random) -> str:
    return " ".join(text.split()[: rng.randint(6, 15)])


def gibberish(text: str, rng: random.Random) -> str:
    """The opening's characters in random order: letter and space shares stay, words and sentences do not."""
    letters = list(text[:1500].replace("\n", " "))
    rng.shuffle(letters)
    return "".join(letters)


def article_items(set_dir: Path, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    items, labels = build_mix(set_dir, seed)
    bad = set(labels["bad"])
    rows = [{"id": i["id"], "text": i["text"], "data_type": "text", "good": i["id"] not in bad,
             "kind": i["id"].split("-")[0]} for i in items if not i["id"].startswith("copy-")]
    originals = [r["text"] for r in rows if r["id"].startswith("article-")]
    for k, body in enumerate(originals):
        rows.append({"id": f"truncated-{k}", "text": truncated(body, rng), "data_type": "text", "good": False,
                     "kind": "truncated"})
        if k % 2 == 0:
            rows.append({"id": f"gibberish-{k}", "text": gibberish(body, rng), "data_type": "text", "good": False,
                         "kind": "gibberish"})
    return pd.DataFrame(rows)


def bbc_items(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return pd.DataFrame({"id": frame["id"].astype(str), "text": frame["text"], "data_type": "text", "good": True,
                         "kind": "article"})


def scored(items: pd.DataFrame) -> pd.DataFrame:
    signals = quality_signals(items.drop(columns=["good", "kind"]), SignalParams(), pd.DataFrame(index=items.index))
    signals["quality"] = quality_score(signals)
    return signals


def auc(scores: np.ndarray, good: np.ndarray) -> float:
    """Mann-Whitney ROC AUC with ties counted half."""
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    n_good, n_bad = good.sum(), (~good).sum()
    if not n_good or not n_bad:
        return float("nan")
    return float((ranks[good].sum() - n_good * (n_good + 1) / 2) / (n_good * n_bad))


def report(name: str, items: pd.DataFrame) -> None:
    signals = scored(items)
    good = items["good"].to_numpy(dtype=bool)
    print(f"\n== {name}: {len(items)} items ({good.sum()} good, {(~good).sum()} bad)")
    header = "".join(f"  q{int(q * 100):02d}" for q in QUANTILES)
    print(f"{'score':13s}{header}   =0     =1   distinct  AUC   good-mean bad-mean")
    for column in SCORES:
        values = signals[column].to_numpy(dtype=float)
        quantiles = "".join(f" {v:5.2f}" for v in np.quantile(values, QUANTILES))
        print(
            f"{column:13s}{quantiles} {np.mean(values == 0):5.1%} {np.mean(values == 1):6.1%} "
            f"{len(np.unique(values.round(3))):6d}  {auc(values, good):5.3f}  "
            f"{values[good].mean() if good.any() else float('nan'):7.3f} "
            f"{values[~good].mean() if (~good).any() else float('nan'):7.3f}"
        )
    kinds = sorted(set(items.loc[~good, "kind"]))
    if kinds:
        print("AUC of good against each kind of bad item:")
        print(f"{'score':13s}" + "".join(f" {kind[:10]:>10s}" for kind in kinds))
        for column in SCORES:
            values = signals[column].to_numpy(dtype=float)
            cells = []
            for kind in kinds:
                chosen = good | (items["kind"] == kind).to_numpy()
                cells.append(f" {auc(values[chosen], good[chosen]):10.3f}")
            print(f"{column:13s}" + "".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchdata", type=Path, nargs="?", default=Path("../shared/benchdata"))
    parser.add_argument("--demo-scale", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report("demo news site", demo_items(args.demo_scale))
    if (args.benchdata / "articles-dev" / "ground-truth.json").exists():
        report("articles-dev mix", article_items(args.benchdata / "articles-dev", args.seed))
    else:
        print(f"(no articles-dev under {args.benchdata}: skipped)")
    if (args.benchdata / "topics-dev.csv").exists():
        report("topics-dev (BBC)", bbc_items(args.benchdata / "topics-dev.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
