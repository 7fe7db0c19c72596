"""Page speed at scale: N raw records and an N-item refinement run, then each page's render time.

Loads the data the way a user would (`python -m core ingest`, `python -m core refine --dataset`) into a
fresh DATA_DIR, then renders every page with streamlit.testing (AppTest wall time, median of 5) and
times Raw Explorer paging and filtering. Prints figures; targets: every page < 1.5 s, paging or
filtering < 0.5 s, peak memory of the process < 1.5 GB.

    python bench/bench_pages.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "market", "energy", "council", "city", "river", "school", "budget", "plan", "research", "report", "water",
    "transport", "policy", "health", "museum", "library", "housing", "climate", "farmers", "train", "station",
    "election", "court", "bridge", "hospital", "harbour",
)
PAGES = ("overview.py", "sources.py", "upload.py", "raw_explorer.py", "refine.py", "quality.py", "packages.py")


def write_corpus(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            words = [rng.choice(WORDS) for _ in range(rng.randint(380, 520))]
            sentences = [" ".join(words[j:j + 12]).capitalize() + "." for j in range(0, len(words), 12)]
            text = " ".join(sentences)
            if i % 50 == 0:
                text += f" Write to person{i}@example.org for details."
            handle.write(json.dumps({"id": i, "title": f"Report {i}", "text": text}) + "\n")


def run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def median_render(page: str, repeats: int = 5, **interact) -> float:
    from streamlit.testing.v1 import AppTest

    from core import auth

    times = []
    for _ in range(repeats):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["auth_user"] = auth.demo_principal("admin").as_dict()
        at.run()
        started = time.perf_counter()
        if page != "overview.py":
            at.switch_page(f"pages/{page}")
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(f"{page} raised: {at.exception[0].value}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, help="reuse a loaded DATA_DIR (skips loading when it has data)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-pages-")) / "data"
    os.environ["DATA_DIR"] = str(data_dir)
    env = {**os.environ, "UPLOAD_MAX_MB": "2000"}  # the corpus is one ~340 MB file
    dataset = "bench-pages"
    if not (data_dir / "workbench.db").exists():
        corpus = data_dir.parent / "corpus.jsonl"
        data_dir.mkdir(parents=True, exist_ok=True)
        write_corpus(corpus, args.n)
        print(f"corpus: {args.n:,} records, {corpus.stat().st_size / 1e6:.0f} MB")
        seconds = run([sys.executable, "-m", "core", "ingest", str(corpus), "--app", "uploads", "--dataset", dataset,
                       "--license", "CC-BY-4.0", "--attest"], env)
        print(f"ingest: {seconds:.1f} s ({args.n / seconds:,.0f} records/s)")
        seconds = run([sys.executable, "-m", "core", "refine", "--dataset", dataset], env)
        print(f"refine --dataset: {seconds:.1f} s ({args.n / seconds:,.0f} items/s, including SQL records)")

    from sqlalchemy import update

    from core import auth, explore
    from core.bootstrap import init_workbench
    from core.store.models import Dataset
    from core.store.raw import get_raw_store
    from core.store.sql import session_scope

    init_workbench()
    get_raw_store()
    print("\npage render, AppTest wall time, median of 5 (target < 1.5 s):")
    for page in PAGES:
        print(f"  {page:<18} {median_render(page):.3f} s")

    print("\nRaw Explorer queries, median of 5 (target < 0.5 s):")
    cases = {
        "first page": dict(flt=explore.RawFilter(), page=0),
        "page 500": dict(flt=explore.RawFilter(), page=500),
        "source filter": dict(flt=explore.RawFilter(source_id=f"upload:{dataset}"), page=3),
        "word search": dict(flt=explore.RawFilter(text="harbour"), page=0),
        "today": dict(flt=explore.RawFilter(date_from=__import__("datetime").date.today()), page=2),
    }
    # The corpus was ingested from the command line (the operator owns it); hand it to the demo supplier so
    # the supplier's queries carry the ownership scope a real supplier's do.
    supplier = auth.demo_principal("supplier")
    with session_scope() as session:
        session.exec(update(Dataset).where(Dataset.name == dataset).values(created_by=supplier.id))
    principals = {"admin": auth.demo_principal("admin"), "supplier": supplier}
    for label, case in cases.items():
        figures = []
        for role, principal in principals.items():
            times = []
            for _ in range(5):
                started = time.perf_counter()
                explore.raw_page(principal, "uploads", case["flt"], page=case["page"])
                times.append(time.perf_counter() - started)
            figures.append(f"{role} {statistics.median(times):.3f} s")
        print(f"  {label:<14} " + ", ".join(figures))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (pages rendered in it): {peak_mb:,.0f} MB (target < 1,500 MB)")
    print(f"data directory: {data_dir}")


if __name__ == "__main__":
    main()
