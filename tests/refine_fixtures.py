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
    dataset = ensure_dataset(name, app, None, license=license, origin="university", attested=True)
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
