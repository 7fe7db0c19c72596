"""The signal-family interface, its registry and the parameters every family reads.

A family is a pure function from a batch of items (plus the columns of the families it depends on)
to a DataFrame of signal columns with the same index. Its (name, version) and the parameters it reads
form its cache key, so a new version or a changed parameter recomputes exactly that family.

`SignalFamily.from_code` derives the version from the code itself: the source of the compute function,
of the first-party functions and modules it names, and of every first-party module those import,
transitively. Editing any of them (a price parser in core/sources, a stop-word list) invalidates the
cached signals that depend on it; nothing is listed by hand, so nothing goes stale.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import json
from dataclasses import asdict, dataclass, field
from types import CodeType, FunctionType, ModuleType
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
    # Semantic neighbours over the whole dataset (core/refine/semantic_signals.py): slow, so only for a recipe
    # holding a semantic_duplicates rule.
    semantic_duplicates: bool = False

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
# The packages whose code a family's version follows; a library's version is pinned in requirements.txt.
FIRST_PARTY = ("core",)


def _first_party(name: str | None) -> bool:
    return bool(name) and any(name == root or name.startswith(root + ".") for root in FIRST_PARTY)


def _resolve(module_name: str, package: str | None, level: int) -> str | None:
    try:
        return importlib.util.resolve_name("." * level + module_name, package) if level else module_name
    except ImportError:
        return None


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _module_imports(path: str, module_name: str, is_package: bool) -> tuple[str, ...]:
    """First-party modules a source file imports, anywhere in it (deferred imports included)."""
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), filename=path)
    package = module_name if is_package else module_name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", package, node.level)
            if base is None:
                continue
            found.add(base)
            # `from core.refine.signals import clarity` imports a module; `from x import name` a name of x.
            found.update(f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}"))
    return tuple(sorted(name for name in found if _first_party(name)))


def _module_source(name: str) -> tuple[str, str, bool] | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return spec.origin, name, spec.submodule_search_locations is not None


def _code_names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):  # lambdas, comprehensions and inner functions
            names |= _code_names(const)
    return names


_PLAIN = (str, bytes, int, float, bool, type(None))


def _stable_repr(value) -> str | None:
    """A repr that is the same in every process (None when there is none: sets of strings are ordered by
    a per-process hash seed, objects by address)."""
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, (tuple, list, frozenset, set)):
        parts = [_stable_repr(v) for v in value]
        if None in parts:
            return None
        return f"{type(value).__name__}({', '.join(sorted(parts) if isinstance(value, (set, frozenset)) else parts)})"
    return None


def code_files(*parts: Callable | ModuleType) -> dict[str, str]:
    """Every first-party source a family's code runs, {module or function name: source text}, transitively.

    Functions of the compute function's own module (the family's adapters) count by their source and the
    values of the plain constants they read, so editing one adapter leaves the other families alone;
    anything else first-party they reach (a module, or another module's function or class) counts as its
    whole file plus everything that file imports, deferred imports included."""
    sources: dict[str, str] = {}
    modules: list[str] = []
    functions = [getattr(part, "func", part) for part in parts]  # functools.partial -> its function
    home = next((f.__module__ for f in functions if isinstance(f, FunctionType)), None)
    seen_functions: set[int] = set()
    while functions:
        part = functions.pop()
        if isinstance(part, ModuleType):
            modules.append(part.__name__)
            continue
        if id(part) in seen_functions or not isinstance(part, FunctionType) or not _first_party(part.__module__):
            continue
        seen_functions.add(id(part))
        if part.__module__ != home:
            modules.append(part.__module__)
            continue
        sources[f"{part.__module__}.{part.__qualname__}"] = inspect.getsource(part)
        for name in sorted(_code_names(part.__code__)):
            if name not in part.__globals__:
                continue  # a builtin or an attribute name
            value = part.__globals__[name]
            if isinstance(value, ModuleType):
                modules.append(value.__name__)
            elif isinstance(value, FunctionType):
                functions.append(value)
            elif (constant := _stable_repr(value)) is not None:
                sources[f"{part.__module__}.{name}"] = constant
            elif _first_party(getattr(value, "__module__", None)) and value.__module__ != home:
                modules.append(value.__module__)  # a class or callable object of another module
            else:
                modules.append(home)  # a value this cannot pin down: the whole adapter module counts
    visited: set[str] = set()
    while modules:
        name = modules.pop()
        if name in visited or not _first_party(name):
            continue
        visited.add(name)
        found = _module_source(name)
        if found is None:
            continue
        path, module_name, is_package = found
        with open(path, encoding="utf-8") as handle:
            sources[name] = handle.read()
        modules.extend(_module_imports(path, module_name, is_package))
    return sources


def code_version(*parts: Callable | ModuleType) -> str:
    """Short hash of every first-party source `parts` run (see code_files): it changes whenever they do."""
    digest = hashlib.sha256()
    for what, source in sorted(code_files(*parts).items()):
        digest.update(f"{what}\0{source}\0".encode())
    return digest.hexdigest()[:8]


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

    @classmethod
    def from_code(
        cls,
        name: str,
        compute: ComputeFn,
        columns: tuple[str, ...],
        *,
        depends_on: tuple[str, ...] = (),
        param_fields: tuple[str, ...] = (),
        uses: tuple[ModuleType, ...] = (),
    ) -> SignalFamily:
        """A family whose version is the hash of its code (code_version of compute, plus `uses` for
        modules it reaches in ways the code does not name, such as a name looked up at run time)."""
        return cls(name, code_version(compute, *uses), compute, tuple(columns), tuple(depends_on),
                   tuple(param_fields))

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
