"""The one rule for names that become part of a file path (dataset names, path parts, uploaded files).

A safe name is a slug: letters, digits, '-', '_' and '.', 1 to 100 characters, not starting with a dot
and never containing '..'. Anything else is refused with a message that says what is allowed, before
the operating system sees it: a NUL or a 400-byte name must give the user a clear error, not an
OSError or ValueError from deep inside pathlib.

Uploaded file names are not chosen by the person typing in the app (the browser or a crafted
multipart request sends them), so they are reduced to their base name and their unsafe characters
replaced rather than refused; names typed by users are refused instead, so what they typed is what
they get.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 100
SAFE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_.-]+")
_DOT_RUN = re.compile(r"\.{2,}")
_MAX_SUFFIX_KEPT = 16  # a truncated long file name keeps its extension, which decides how it is parsed


class UnsafeNameError(ValueError):
    """A name that would reach a file path is refused; the message says what is allowed."""


def _shown(value: str) -> str:
    """The value as it may appear in a message: printable and short, whatever was sent."""
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def safe_name(value: object, what: str = "name") -> str:
    """Return `value` unchanged if it is a safe path component, else raise UnsafeNameError."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"The {what} must be text.")
    if "\x00" in value:
        raise UnsafeNameError(f"The {what} contains a NUL character; use letters, digits, '-', '_' or '.'.")
    if not value:
        raise UnsafeNameError(f"Give the {what} (letters, digits, '-', '_' or '.').")
    if len(value) > MAX_NAME_LENGTH:
        raise UnsafeNameError(f"The {what} is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}.")
    if not SAFE_NAME_PATTERN.fullmatch(value):
        shown = " ".join(repr(c) for c in sorted(set("".join(_UNSAFE_RUN.findall(value))))[:8])
        raise UnsafeNameError(f"The {what} {_shown(value)} contains characters that are not allowed ({shown}); "
                              "use letters, digits, '-', '_' or '.', for example customer-reviews-2026.")
    if value.startswith("."):
        raise UnsafeNameError(f"The {what} {_shown(value)} starts with a dot; start it with a letter or digit.")
    if ".." in value:
        raise UnsafeNameError(f"The {what} {_shown(value)} contains '..'; use single dots only.")
    return value


def slug_from(value: str, what: str = "name") -> str:
    """A safe name derived from free text (spaces and other characters become '-'), for names users never typed
    as paths, such as a source called 'City news: daily'. Refuses only text with no letter or digit at all."""
    slug = _DOT_RUN.sub(".", _UNSAFE_RUN.sub("-", value.replace("\x00", ""))).strip("-.")[:MAX_NAME_LENGTH]
    return safe_name(slug.rstrip("-."), what)


def upload_base_name(filename: object) -> str:
    """The base name of an uploaded file (any directory part sent with it dropped), for messages and records.

    Refuses a name that is empty, '.', '..' or holds a NUL; long names are cut to MAX_NAME_LENGTH characters,
    keeping the extension."""
    if not isinstance(filename, str):
        raise UnsafeNameError("The uploaded file has no name.")
    if "\x00" in filename:
        raise UnsafeNameError("The uploaded file name contains a NUL character; rename the file and try again.")
    base = re.split(r"[\\/]", filename)[-1].strip()
    if base in ("", ".", ".."):
        raise UnsafeNameError(f"The uploaded file name {_shown(filename)} has no file name part; rename the file.")
    return _bounded(base)


def upload_path_name(filename: object, max_length: int = MAX_NAME_LENGTH) -> str:
    """The uploaded file's base name made safe for a path component (unsafe characters become '_').

    `max_length` leaves room for a prefix the caller adds (a timestamp), so the whole component stays safe."""
    base = upload_base_name(filename)
    cleaned = _DOT_RUN.sub(".", _UNSAFE_RUN.sub("_", base)).lstrip(".")
    if not cleaned.strip("_."):
        cleaned = "upload" + (("." + base.rsplit(".", 1)[-1]) if "." in base else "")
        cleaned = _DOT_RUN.sub(".", _UNSAFE_RUN.sub("_", cleaned))
    return safe_name(_bounded(cleaned, max_length), "uploaded file name")


def _bounded(name: str, max_length: int = MAX_NAME_LENGTH) -> str:
    if len(name) <= max_length:
        return name
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and len(suffix) <= _MAX_SUFFIX_KEPT:
        return stem[:max_length - len(suffix) - 1] + "." + suffix
    return name[:max_length]
