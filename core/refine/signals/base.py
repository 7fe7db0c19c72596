"""The signal-family interface, its registry and the parameters every family reads.

A family is a pure function from a batch of items (plus the columns of the families it depends on)
to a DataFrame of signal columns with the same index. Its (name, version) and the parameters it reads
form its cache key, so bumping a version or changing a parameter recomputes exactly that family.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Mapping

import pandas as pd

from core.refine.signals.completeness import DEFAULT_GOOD_TEXT_CHARS, DEFAULT_REQUIRED_FIELDS

# Column naming the families that failed on an item ("" when all worked).
SIGNAL_ERRORS = "signal_errors"
DEFAULT_QUALITY_WEIGHTS = {"completeness": 0.2, "clarity": 0.35, "relevance": 0.15, "validity": 0.3}


@dataclass(frozen=True)
class SignalParams:
    """Everything that changes what the signals say; plain data, so it pickles to worker processes."""

    batch_size: int = 2000
    topic_keywords: tuple[str, ...] = ()
    topic_examples: tuple[str, ...] = ()
    required_fields: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_REQUIRED_FIELDS)
    )
    good_text_chars: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_GOOD_TEXT_CHARS))
    quality_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_QUALITY_WEIGHTS))
    minhash_num_perm: int = 128
    minhash_shingle_size: int = 5
    minhash_seed: int = 1
    near_duplicate_threshold: float | None = None  # None: the duplicates module's tuned default
    image_near_duplicate_bits: int = 6  # of 64 perceptual-hash bits; resized copies differ by 0-4
    topics: bool = True
    n_topics: int | None = None
    topic_seed: int = 0
    families: tuple[str, ...] | None = None  # None: every registered family

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        unknown = set(self.quality_weights) - set(DEFAULT_QUALITY_WEIGHTS)
        if unknown:
            raise ValueError(
                f"Unknown quality weight(s) {sorted(unknown)}; expected {list(DEFAULT_QUALITY_WEIGHTS)}"
            )

    def digest(self, names: Iterable[str]) -> str:
        """Short hash of the named parameters' values (part of a family's cache key)."""
        values = asdict(self)
        chosen = {name: values[name] for name in sorted(names)}
        canonical = json.dumps(chosen, sort_keys=True, separators=(",", ":"), default=list)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]


ComputeFn = Callable[[pd.DataFrame, SignalParams, pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class SignalFamily:
    """One family of per-batch signals.

    `compute(items, params, upstream)` gets the batch, the parameters and the columns already computed
    for the batch by the families in `depends_on`; it returns `columns` with the batch's index.
    """

    name: str
    version: str
    compute: ComputeFn
    columns: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    param_fields: tuple[str, ...] = ()

    def cache_key(self, params: SignalParams) -> str:
        suffix = f"-{params.digest(self.param_fields)}" if self.param_fields else ""
        return f"{self.name}-v{self.version}{suffix}"


class SignalRegistry:
    """Families by name, resolved into dependency order."""

    def __init__(self, families: Iterable[SignalFamily] = ()):
        self._families: dict[str, SignalFamily] = {}
        for family in families:
            self.register(family)

    def register(self, family: SignalFamily) -> None:
        if family.name in self._families:
            raise ValueError(f"Signal family {family.name!r} is already registered")
        missing = [d for d in family.depends_on if d not in self._families]
        if missing:
            raise ValueError(
                f"Signal family {family.name!r} depends on unregistered {missing}; register those first"
            )
        self._families[family.name] = family

    def get(self, name: str) -> SignalFamily:
        try:
            return self._families[name]
        except KeyError:
            raise KeyError(f"Unknown signal family {name!r}; known: {', '.join(self._families)}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._families)

    def ordered(self, names: Iterable[str] | None = None) -> list[SignalFamily]:
        """The requested families plus everything they depend on, dependencies first."""
        wanted = list(self._families) if names is None else list(names)
        needed: set[str] = set()
        stack = [self.get(n).name for n in wanted]
        while stack:
            name = stack.pop()
            if name not in needed:
                needed.add(name)
                stack.extend(self.get(name).depends_on)
        # Registration order is already a valid dependency order (register() enforces it).
        return [family for name, family in self._families.items() if name in needed]

    def versions(self) -> dict[str, str]:
        return {name: family.version for name, family in self._families.items()}
