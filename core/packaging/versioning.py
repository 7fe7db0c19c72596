"""Semantic versions for package releases and a plain-language changelog of count changes.

Croissant recommends semver for datasets: PATCH = same data re-serialised, MINOR = data added,
MAJOR = existing data changed or removed. Choosing which one applies is the caller's decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

Change = Literal["major", "minor", "patch"]

# semver.org 2.0.0, section "Is there a suggested regular expression".
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def parse_version(version: str) -> tuple[int, int, int, str | None]:
    """(major, minor, patch, pre-release or None); raises ValueError for anything not semver."""
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError(f"version {version!r} is not a semantic version like '1.4.2'")
    major, minor, patch, prerelease, _build = match.groups()
    return int(major), int(minor), int(patch), prerelease


def is_valid_version(version: str) -> bool:
    try:
        parse_version(version)
    except ValueError:
        return False
    return True


def next_version(previous: str | None, change: Change) -> str:
    """The version after ``previous`` for a change of the given size.

    No previous version counts as 0.0.0, so a first release is 1.0.0, 0.1.0 or 0.0.1. A
    pre-release is finished rather than skipped (1.2.0-rc.1 + minor -> 1.2.0), as npm does.
    """
    if change not in ("major", "minor", "patch"):
        raise ValueError(f"change must be 'major', 'minor' or 'patch', not {change!r}")
    major, minor, patch, prerelease = parse_version(previous) if previous is not None else (0, 0, 0, None)
    if change == "major":
        finishing = prerelease is not None and minor == 0 and patch == 0
        return f"{major}.0.0" if finishing else f"{major + 1}.0.0"
    if change == "minor":
        finishing = prerelease is not None and patch == 0
        return f"{major}.{minor}.0" if finishing else f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch}" if prerelease is not None else f"{major}.{minor}.{patch + 1}"


def _flatten(counts: Mapping, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in counts.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _describe_change(name: str, before: object, after: object) -> str:
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
    delta = f" ({after - before:+g})" if numeric else ""
    return f"- {name}: {before} → {after}{delta}"


def changelog_entry(prev_counts: Mapping | None, new_counts: Mapping) -> str:
    """Markdown bullet lines naming every count that changed; nested dicts use dotted names."""
    new_flat = _flatten(new_counts)
    if not prev_counts:
        listed = ", ".join(f"{name} {value}" for name, value in new_flat.items())
        return f"- first version: {listed}" if listed else "- first version"
    old_flat = _flatten(prev_counts)
    lines = []
    for name, value in new_flat.items():
        if name not in old_flat:
            lines.append(f"- {name}: new, {value}")
        elif old_flat[name] != value:
            lines.append(_describe_change(name, old_flat[name], value))
    lines.extend(f"- {name}: removed (was {value})"
                 for name, value in old_flat.items() if name not in new_flat)
    return "\n".join(lines) if lines else "- no count changed"
