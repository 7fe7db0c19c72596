"""A dataset with items and a finished refinement run, built through the real stores (no refinement engine)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pandas as pd

from core.refine import runs
from core.sources.ingest import ensure_dataset, items_from_documents
from core.store.raw import content_hash


def dataset_with_run(license: str = "CC-BY-4.0", n: int = 12, app: str = "uploads") -> tuple[dict, int]:
    name = f"ds-{uuid.uuid4().hex[:8]}"
    from core import auth

    dataset = ensure_dataset(auth.demo_principal("supplier"), name, app, license=license, origin="university",
                             attested=True)
    now = datetime.now(UTC)
    docs = [{"_id": uuid.uuid4().hex[:24], "source_id": f"upload:{name}", "url": f"upload://{name}/f.jsonl#{i}",
             "fetched_at": now, "content_hash": content_hash(f"{name}{i}"),
             "raw_content": f'{{"text": "=SUM(A1) document {i} about energy"}}',
             "metadata": {"format": "jsonl"}} for i in range(n)]
    items_from_documents(app, dataset["id"], docs)
    items = runs.load_items(dataset["id"])
    signals = pd.DataFrame({"id": items["id"], "quality": [0.9 - 0.05 * i for i in range(n)],
                            "language": ["en" if i % 3 else "de" for i in range(n)],
                            "duplicate_cluster": items["id"], "pii_count": [0] * n,
                            "topic_label": ["energy / grid"] * n})
    kept = signals["quality"] >= 0.5
    decisions = pd.DataFrame({"id": items["id"], "kept": kept,
                              "drop_reason": ["" if k else "min_quality<0.5" for k in kept]})
    funnel = [{"rule": "min_quality", "dropped": int((~kept).sum()), "remaining": int(kept.sum())}]
    run_id = runs.start_run(dataset["id"], {"rules": [{"min": {"quality": 0.5}}]}, "abc123def456", None, None)
    runs.finish_run(run_id, name, items, signals, decisions, funnel, {"total_s": 0.1}, items["text"])
    return dataset, run_id


SENTENCES = [
    "The city council approved a new plan for the tram network after a long public consultation.",
    "Engineers said the first section of the line should open to passengers within three years.",
    "Local businesses welcomed the decision but asked for support during the construction work.",
    "Critics argued that the budget did not include enough money for maintenance of older stations.",
    "The regional government will cover half of the cost, according to a statement released on Monday.",
    "Residents can follow the progress of the works on a website updated every week by the city.",
]


def article_text(i: int) -> str:
    rotated = SENTENCES[i % len(SENTENCES):] + SENTENCES[:i % len(SENTENCES)]
    return f"Report number {i}. " + " ".join(rotated * 3)


def ingest_texts(dataset: str, texts: list[str], app: str = "uploads") -> None:
    import json

    from core import auth
    from core.sources.ingest import ingest_upload

    data = "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)).encode()
    ingest_upload(auth.demo_principal("supplier"), "docs.jsonl", data, app=app, dataset=dataset, license="CC-BY-4.0",
                  origin="enterprise", attested=True)


def refined_dataset(n: int = 40) -> tuple[str, int]:
    """A dataset of real-looking articles, spam, short pages and a duplicate, refined by the real engine."""
    from core.refine.service import refine_dataset

    name = f"refined-{uuid.uuid4().hex[:8]}"
    texts = [article_text(i) for i in range(n)]
    texts += ["buy cheap pills " * 40, "404 not found", article_text(3), "Contact jane.doe@example.org or "
              "+44 20 7946 0958 for the full report. " + article_text(5)]
    ingest_texts(name, texts)
    from core import auth

    summary = refine_dataset(auth.demo_principal("supplier"), name)
    return name, summary["run_id"]
