"""Streamed ingest benchmark: a JSONL of ~3 KB documents of a given size, ingested through `ingest_path`.

    .venv/bin/python bench/bench_stream_ingest.py --gb 1            # default 5 GB
    .venv/bin/python bench/bench_stream_ingest.py --gb 0.2 --snapshot --mongodb-uri mongodb://...
    .venv/bin/python bench/bench_stream_ingest.py --gb 1 --null-raw-store   # the ingest alone, no raw store

Everything runs in a fresh DATA_DIR under --dir (default /tmp), with the embedded MongoDB server unless
--mongodb-uri is given. Prints documents per second, MB per second and peak memory: of this process
(the ingest; target < 1 GB whatever the file size) and of the embedded MongoDB server process.
Free disk is checked first: the file, the raw store (~1.5x with its full-text index) and the items.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A vocabulary of ~9,000 pseudo-words, so the raw store's full-text index sees a realistic spread of terms.
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "va", "de", "ghe", "lin", "mar", "sol", "tur",
             "ben", "cor", "dal", "fen", "gor", "hal", "ir", "jon", "kel", "mor"]
WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "s", "ra", "to", "li", "ve", "de",
                                                                 "ma", "ko", "tu", "pe", "si", "no", "ga")]


def generate(path: Path, target_bytes: int, seed: int = 17) -> int:
    """Write ~3 KB JSON documents until the file reaches `target_bytes`; returns the document count."""
    rng = random.Random(seed)
    count = written = 0
    with open(path, "w", encoding="utf-8") as handle:
        while written < target_bytes:
            count += 1
            words = rng.choices(WORDS, k=420)
            doc = {"id": count, "title": " ".join(words[:8]).title(), "text": " ".join(words),
                   "url": f"https://example.org/doc/{count}", "published": f"2026-{1 + count % 12:02d}-01"}
            line = json.dumps(doc) + "\n"
            handle.write(line)
            written += len(line)
    return count


class ServerUsage:
    """Peak resident memory (sampled twice a second) and CPU time of the embedded MongoDB server process."""

    def __init__(self, pid: int | None):
        self.pid, self.peak, self.cpu_seconds, self._stop = pid, 0, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> float:
        import psutil

        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.5):
            try:
                self.peak = max(self.peak, psutil.Process(self.pid).memory_info().rss)
            except (psutil.Error, TypeError):
                return

    def __enter__(self) -> ServerUsage:
        if self.pid:
            self._cpu_start = self._cpu()
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.pid:
            self.cpu_seconds = self._cpu() - self._cpu_start


class NullRawStore:
    """A raw store that accepts every document and keeps none: the ingest measured without any server."""

    def insert_documents(self, app: str, documents, batch_size: int = 1000):
        from core.store.raw import InsertReport

        documents = list(documents)
        return InsertReport(new=len(documents), new_ids=[str(d["_id"]) for d in documents])


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=5.0, help="size of the generated JSONL in GB (default 5)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--snapshot", action="store_true", help="also copy the file into data/raw (as the CLI does)")
    parser.add_argument("--mongodb-uri", default=None, help="a real MongoDB instead of the embedded server")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and stores")
    parser.add_argument("--null-raw-store", action="store_true",
                        help="count raw documents as stored without sending them anywhere (items are still written): "
                             "what the ingest itself reaches, whatever the raw store")
    args = parser.parse_args()

    target = int(args.gb * 1e9)
    free = shutil.disk_usage(args.dir).free
    needed = int(target * (4.5 if args.snapshot else 3.5))
    if free < needed:
        print(f"Not enough free disk under {args.dir}: {free / 1e9:.1f} GB free, about {needed / 1e9:.1f} GB needed "
              "(file, raw store with its full-text index, items). Use --gb smaller or --dir elsewhere.")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-stream-", dir=args.dir))
    os.environ["DATA_DIR"] = str(work / "data")
    os.environ["INGEST_KEEP_SNAPSHOT"] = "true" if args.snapshot else "false"
    if args.mongodb_uri:
        os.environ["MONGODB_URI"] = args.mongodb_uri
    from core.auth import demo_principal
    from core.bootstrap import init_workbench
    from core.sources.stream_ingest import ingest_path
    from core.store.embedded_mongo import embedded_manager
    from core.store.raw import get_raw_store

    try:
        path = work / "bench.jsonl"
        started = time.monotonic()
        documents = generate(path, target)
        size = path.stat().st_size
        print(f"generated {size / 1e9:.2f} GB, {documents:,} documents of ~{size / documents / 1e3:.1f} KB "
              f"in {time.monotonic() - started:.0f} s")
        init_workbench()
        get_raw_store()
        if args.null_raw_store:
            import core.sources.stream_ingest as stream_ingest

            stream_ingest.get_raw_store = NullRawStore
        server_pid = None if args.mongodb_uri else embedded_manager(work / "data" / "mongo").ensure_running().pid
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            if time.monotonic() - last[0] > 30:
                last[0] = time.monotonic()
                print(f"  [{fraction:6.1%}] {message}", flush=True)

        load_before = os.getloadavg()[0]
        with ServerUsage(server_pid) as server:
            cpu_started, started = own_cpu_seconds(), time.monotonic()
            report = ingest_path(demo_principal("supplier"), path, app="uploads", dataset="bench-stream",
                                 license="CC-BY-4.0", attest=True, progress=progress)
            seconds, cpu_seconds = time.monotonic() - started, own_cpu_seconds() - cpu_started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        stored = report["new"] + report["already_present"]
        print(f"ingested {stored:,} documents ({report['items_created']:,} items, {report['rejected_count']} "
              f"rejected) in {seconds:.0f} s")
        print(f"throughput: {stored / seconds:,.0f} documents/s, {size / seconds / 1e6:.1f} MB/s")
        print(f"peak RSS of the ingest process: {peak / 1e6:,.0f} MB (before ingest {rss_before / 1e6:,.0f} MB)")
        print(f"CPU: ingest process {cpu_seconds / stored * 1e3:.2f} ms/document", end="")
        if server_pid:
            print(f", embedded MongoDB server {server.cpu_seconds / stored * 1e3:.2f} ms/document; the busier of the "
                  f"two bounds an uncontended 2-core run at {stored / max(cpu_seconds, server.cpu_seconds):,.0f} "
                  "documents/s")
            print(f"peak RSS of the embedded MongoDB server: {server.peak / 1e6:,.0f} MB")
        else:
            print()
        print(f"load average (1 min) at start {load_before:.1f}, at end {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")
        store = "null (documents dropped)" if args.null_raw_store else (
            "MongoDB at MONGODB_URI" if args.mongodb_uri else "embedded nx-27017")
        print(f"raw store: {store}; "
              f"batch {os.environ.get('INGEST_BATCH_SIZE', 'default')}")
    finally:
        if not args.keep:
            from core.store.raw import close_raw_stores

            close_raw_stores()
            if not args.mongodb_uri:
                embedded_manager(work / "data" / "mongo").stop()
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
