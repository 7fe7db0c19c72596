"""What the embedded raw store (nx-27017) alone accepts: ~3.5 KB documents by `insert_many`, per index set.

    .venv/bin/python bench/bench_raw_insert.py                 # 6,000 documents per variant
    .venv/bin/python bench/bench_raw_insert.py --n 20000 --variants btree,text

A fresh embedded server in a temporary directory; each variant gets its own database with the raw store's
B-tree indexes (unique (source_id, content_hash), fetched_at, url, fetched_day) and:
  btree         nothing more
  text          the raw store's full-text index on raw_content and url (what `RawStore` creates)
  text_content  a full-text index on raw_content only
  btree_tx      B-tree indexes, each batch in one transaction
  text_tx       full-text index, each batch in one transaction
  text_after    B-tree indexes while inserting, the full-text index built afterwards in one pass
Prints documents per second (wall, shared machine) and the server's CPU per document, which is steadier
under load; the streamed ingest cannot go faster than 1 / (server CPU per document) with one server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pymongo
from bench_stream_ingest import WORDS
from bson import ObjectId

from core.store.embedded_mongo import embedded_manager

VARIANTS = ("btree", "text", "text_content", "btree_tx", "text_tx", "text_after")
FULL_TEXT = [("raw_content", pymongo.TEXT), ("url", pymongo.TEXT)]


def documents(count: int, tag: str, rng: random.Random) -> list[dict]:
    """Documents shaped like the streamed ingest's (a JSONL line of 420 words as raw_content)."""
    now = datetime.now(UTC)
    out = []
    for line in range(count):
        words = rng.choices(WORDS, k=420)
        raw = json.dumps({"id": line, "title": " ".join(words[:8]).title(), "text": " ".join(words)})
        out.append({"_id": ObjectId(), "source_id": f"upload:{tag}", "url": f"upload://{tag}/bench.jsonl#{line}",
                    "fetched_at": now, "content_hash": hashlib.sha256(raw.encode()).hexdigest(),
                    "raw_content": raw, "metadata": {"license": "CC-BY-4.0", "file": "bench.jsonl", "line": line},
                    "fetched_day": now.year * 10000 + now.month * 100 + now.day})
    return out


def prepared_collection(client: pymongo.MongoClient, variant: str):
    coll = client[f"dbw_bench_{variant}"]["documents"]
    coll.create_index([("source_id", 1), ("content_hash", 1)], unique=True)
    for key in ("fetched_at", "url", "fetched_day"):
        coll.create_index([(key, 1)])
    if variant in ("text", "text_tx"):
        coll.create_index(FULL_TEXT, name="tx_content")
    elif variant == "text_content":
        coll.create_index([("raw_content", pymongo.TEXT)], name="tx_raw_content")
    return coll


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=6000, help="documents per variant (default 6,000)")
    parser.add_argument("--batch", type=int, default=2000, help="documents per insert_many (the ingest's default)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")

    work = Path(tempfile.mkdtemp(prefix="bench-raw-insert-"))
    manager = embedded_manager(work / "mongo")
    try:
        server = manager.ensure_running()
        process = psutil.Process(server.pid)
        client = pymongo.MongoClient(server.uri, tz_aware=True)
        rng = random.Random(17)

        def server_cpu() -> float:
            times = process.cpu_times()
            return times.user + times.system

        print(f"{args.n:,} documents per variant, batches of {args.batch:,}; {os.cpu_count()} cores")
        for variant in variants:
            coll = prepared_collection(client, variant)
            batch = documents(args.n, variant, rng)
            load, cpu_started, started = os.getloadavg()[0], server_cpu(), time.monotonic()
            for start in range(0, args.n, args.batch):
                chunk = batch[start:start + args.batch]
                if variant.endswith("_tx"):
                    with client.start_session() as session, session.start_transaction():
                        coll.insert_many(chunk, ordered=False, session=session)
                else:
                    coll.insert_many(chunk, ordered=False)
            if variant == "text_after":
                coll.create_index(FULL_TEXT, name="tx_content")
            seconds, cpu = time.monotonic() - started, server_cpu() - cpu_started
            stored = coll.estimated_document_count()
            print(f"{variant:13s} {args.n / seconds:7,.0f} documents/s ({seconds:5.1f} s), server CPU "
                  f"{cpu / args.n * 1e3:.3f} ms/document (bound {args.n / cpu:,.0f}/s), stored {stored:,}; "
                  f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
        client.close()
    finally:
        manager.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
