"""compute_signals: every signal family over batches through an executor, then the cross-batch steps.

Flow: look each family up in the signal cache (id + content hash), split the items that still need
something into batches, run the needed families per batch on the executor (results come back in
order, so runs are deterministic), store what was computed, then cluster duplicates and topics over
all items and take the weighted quality with the caller's weights. With worker processes the topics are
clustered in a thread of this process while the workers run, since they need only the texts.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.refine.cache import SignalCache, content_hashes
from core.refine.crossbatch import duplicate_clusters, topic_columns
from core.refine.executor import Executor, InProcessExecutor, make_executor
from core.refine.semantic_signals import semantic_neighbour_columns
from core.refine.signals.base import SIGNAL_ERRORS, SignalFamily, SignalParams, SignalRegistry
from core.refine.signals.families import MINHASH_COLUMN, RETIRED_FAMILIES, default_registry, text_or_title
from core.refine.signals.quality import quality_score

Progress = Callable[[float, str], None]
ITEM_COLUMNS = ("id", "text", "title", "data_type", "fields", "source_app", "url")
_BATCH_SHARE = 0.85  # of the progress bar; the cross-batch steps take the rest
POOL_MIN_ITEMS = 4_000  # below this many items, starting worker processes costs more than it saves
DEFAULT_WORKERS = 2  # this machine has two cores


def executor_for(item_count: int, workers: int | None = None) -> Executor:
    """The executor for computing signals of `item_count` items: with workers None, DEFAULT_WORKERS processes
    from POOL_MIN_ITEMS items on and in-process below; a number of workers is used as given (1: in-process)."""
    if workers is None:
        workers = DEFAULT_WORKERS if item_count >= POOL_MIN_ITEMS else 1
    most = max(DEFAULT_WORKERS, os.cpu_count() or 1)
    if not 1 <= workers <= most:
        raise ValueError(f"workers must be within 1..{most} (the cores of this machine), got {workers}")
    return make_executor(workers)


@dataclass(frozen=True)
class BatchTask:
    items: pd.DataFrame
    families: tuple[str, ...]
    params: SignalParams
    registry: SignalRegistry


def normalize_items(items: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns with defaults filled in; ids must be present, non-empty and unique."""
    if "id" not in items:
        raise ValueError("items need an 'id' column")
    ids = items["id"].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    blank = np.flatnonzero(ids.str.strip().eq("").to_numpy())
    if blank.size:
        raise ValueError(f"{blank.size} item(s) without an id (row positions {blank[:5].tolist()})")
    repeated = ids[ids.duplicated()].unique()
    if repeated.size:
        raise ValueError(
            f"{repeated.size} duplicated item id(s), e.g. {list(repeated[:5])}; ids must be unique"
        )
    defaults = {"text": "", "title": None, "data_type": "text", "fields": None, "source_app": "", "url": None}
    columns = {"id": ids.to_numpy(dtype=object)}
    for name, default in defaults.items():
        columns[name] = items[name].to_numpy(dtype=object) if name in items else [default] * len(items)
    columns["text"] = [t if isinstance(t, str) else "" for t in columns["text"]]
    # Explicit object columns: pandas would otherwise copy every text into an Arrow string buffer and
    # hand out new Python strings on each access, doubling the memory that texts take.
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]


def _compute_family(
    family: SignalFamily, task: BatchTask, upstream: pd.DataFrame, errors: list[str]
) -> pd.DataFrame:
    """The family over the batch; if the batch fails, row by row so one bad item costs only its row."""
    try:
        result = family.compute(task.items, task.params, upstream)
        return result.loc[:, list(family.columns)]
    except Exception:  # noqa: BLE001 - isolate the failing rows below instead of losing the batch
        pass
    rows = []
    for position in range(len(task.items)):
        one = task.items.iloc[[position]]
        try:
            rows.append(
                family.compute(one, task.params, upstream.iloc[[position]]).loc[:, list(family.columns)]
            )
        except Exception as exc:  # noqa: BLE001 - recorded per row, surfaced as a drop reason
            errors[position] += f"{family.name}: {_describe(exc)}; "
            rows.append(pd.DataFrame({c: [None] for c in family.columns}, index=one.index))
    return pd.concat(rows)


def run_batch(task: BatchTask) -> pd.DataFrame:
    """All requested families (dependencies first) over one batch; module-level so it pickles."""
    errors = [""] * len(task.items)
    out = pd.DataFrame(index=task.items.index)
    for family in task.registry.ordered(task.families):
        upstream = out[[c for dep in family.depends_on for c in task.registry.get(dep).columns]]
        out = pd.concat([out, _compute_family(family, task, upstream, errors)], axis=1)
    out[SIGNAL_ERRORS] = [e.rstrip("; ") for e in errors]
    return out


def compute_signals(
    items: pd.DataFrame,
    params: SignalParams | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    *,
    cache: SignalCache | None = None,
    registry: SignalRegistry | None = None,
) -> pd.DataFrame:
    """One row per item (same order): id, every family's columns, duplicate_cluster, relist_cluster,
    topic, topic_label, quality (with params.quality_weights) and signal_errors ("" when all worked)."""
    params = params or SignalParams()
    registry = registry or default_registry()
    executor = executor or InProcessExecutor()
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    items = normalize_items(items)
    n = len(items)
    # Topics read only the texts, so with worker processes they are clustered in this process while the
    # workers compute the batches, instead of afterwards on one core while the other waits.
    topics_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="topics")
    topics = topics_thread.submit(_topics, items, params) if executor.workers > 1 else None
    try:
        ids, hashes = items["id"].to_numpy(dtype=object), content_hashes(items)
        families = registry.ordered(params.families)
        report(0.02, f"Looking up cached signals for {n:,} items")
        cached, needed = {}, {}
        for family in families:
            found, frame = (
                cache.lookup(family.cache_key(params), ids, hashes, family.columns)
                if cache is not None
                else (np.zeros(n, dtype=bool), pd.DataFrame(columns=list(family.columns)))
            )
            cached[family.name] = (found, frame)
            needed[family.name] = ~found
        signals = _batch_signals(items, ids, hashes, families, cached, needed, params, registry, executor,
                                 report, cache)
        report(0.92, "Clustering duplicates and topics")
        signals = _cross_batch(items, signals, params, topics)
        if params.semantic_duplicates:
            report(0.95, f"Finding semantic duplicates among {n:,} items (embeddings cached per text)")
            neighbours = semantic_neighbour_columns(items, signals, cache.directory if cache is not None else None)
            signals = pd.concat([signals, neighbours], axis=1)
    finally:
        topics_thread.shutdown(wait=True, cancel_futures=True)
    report(1.0, f"Signals for {n:,} items in {time.perf_counter() - started:.1f} s")
    return signals


def _batch_signals(
    items: pd.DataFrame,
    ids: np.ndarray,
    hashes: np.ndarray,
    families: list[SignalFamily],
    cached: dict[str, tuple[np.ndarray, pd.DataFrame]],
    needed: dict[str, np.ndarray],
    params: SignalParams,
    registry: SignalRegistry,
    executor: Executor,
    report: Progress,
    cache: SignalCache | None,
) -> pd.DataFrame:
    """Every family's columns for every item: cached rows as they are, the rest computed in batches."""
    n = len(items)
    todo = np.flatnonzero(np.logical_or.reduce([needed[f.name] for f in families])) if families else []
    batches = [todo[i : i + params.batch_size] for i in range(0, len(todo), params.batch_size)]
    tasks = (
        BatchTask(items.iloc[b], tuple(f.name for f in families if needed[f.name][b].any()), params, registry)
        for b in batches
    )
    computed: dict[str, list[pd.DataFrame]] = {f.name: [] for f in families}
    errors = pd.Series([""] * n, dtype=object)
    for done, (positions, result) in enumerate(
        zip(batches, executor.map_ordered(run_batch, tasks), strict=True), start=1
    ):
        result.index = positions
        errors.iloc[positions] = result[SIGNAL_ERRORS].to_numpy()
        for family in families:
            rows = positions[needed[family.name][positions]]
            if rows.size:
                computed[family.name].append(result.loc[rows, list(family.columns)])
        report(0.05 + _BATCH_SHARE * done / len(batches), f"Signals: batch {done}/{len(batches)}")
    signals = pd.DataFrame({"id": ids})
    for family in families:
        column_frame = _assemble(family, cached[family.name], computed[family.name], n)
        signals = pd.concat([signals, column_frame], axis=1)
        if cache is not None and computed[family.name]:
            _store(cache, family, params, ids, hashes, column_frame, needed[family.name], errors)
    if cache is not None:
        for retired in RETIRED_FAMILIES:
            cache.prune(retired, current_key="")  # no current version: every file of it goes
    signals[SIGNAL_ERRORS] = errors.to_numpy()
    # Cached columns come back from Parquet as pandas strings, fresh ones are often Python objects; one
    # representation keeps outputs byte-identical whichever way a value arrived.
    for name in signals.columns:
        if isinstance(signals[name].dtype, pd.StringDtype):
            signals[name] = signals[name].astype(object)
    return signals


def _assemble(
    family: SignalFamily, cached: tuple[np.ndarray, pd.DataFrame], parts: list[pd.DataFrame], n: int
) -> pd.DataFrame:
    found, frame = cached
    pieces = [frame.set_axis(np.flatnonzero(found))] if found.any() else []
    pieces += parts
    if not pieces:
        return pd.DataFrame(index=range(n), columns=list(family.columns))
    return pd.concat(pieces).sort_index().reindex(range(n))


def _store(
    cache: SignalCache,
    family: SignalFamily,
    params: SignalParams,
    ids: np.ndarray,
    hashes: np.ndarray,
    columns: pd.DataFrame,
    needed: np.ndarray,
    errors: pd.Series,
) -> None:
    # Rows whose signals failed are not cached, so the next run tries them again.
    fresh = needed & errors.eq("").to_numpy()
    rows = columns.loc[fresh].copy()
    rows.insert(0, "content_hash", hashes[fresh])
    rows.insert(0, "id", ids[fresh])
    cache.store(family.cache_key(params), rows)
    cache.prune(family.name, family.cache_key(params))


def _topics(items: pd.DataFrame, params: SignalParams) -> pd.DataFrame | None:
    return topic_columns(text_or_title(items), params) if params.topics and len(items) else None


def _cross_batch(
    items: pd.DataFrame, signals: pd.DataFrame, params: SignalParams, topics: Future | None
) -> pd.DataFrame:
    signals = pd.concat([signals, duplicate_clusters(items, signals, params)], axis=1)
    topic_frame = topics.result() if topics is not None else _topics(items, params)
    if topic_frame is not None:
        signals = pd.concat([signals, topic_frame], axis=1)
    if "completeness" in signals:
        signals["quality"] = quality_score(signals, params.quality_weights)
    signals.insert(1, "data_type", items["data_type"].to_numpy(dtype=object))
    signals.insert(2, "source_app", items["source_app"].to_numpy(dtype=object))
    return signals.drop(columns=[MINHASH_COLUMN], errors="ignore")
