"""A data subject's identifiers: normalised once, then found, masked and redacted in any text.

Emails are compared case-folded, phone numbers as E.164 (a number written "020 7946 0958" in a page and
"+44 20 7946 0958" in the request are the same person), names as whole words, case-insensitive, with any
run of spaces between the words ("Jane Doe" matches "jane  doe," but not "Janet Doe").
The phone and email finders are the refinery's PII finders, so a request finds what the PII signal sees.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

import phonenumbers

from core.config import get_settings
from core.refine.signals.pii_patterns import (
    NORTH_AMERICAN_REGION,
    TRUNK_ZERO_REGIONS,
    find_emails,
    find_phones,
)

REDACTION = "[erased]"
MAX_NAME_WORDS = 6
_WORD = re.compile(r"\w+")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SubjectError(ValueError):
    """The identifiers given cannot describe a person; the message says what to give."""


def normalise_email(value: str) -> str:
    email = (value or "").strip().casefold()
    if not _EMAIL_SHAPE.match(email):
        raise SubjectError(f"'{value}' is not an email address (name@example.org).")
    return email


def normalise_phone(value: str, region: str | None = None) -> str:
    """E.164 form of a phone number; a number without +CC needs its region (GB, US, DE...)."""
    try:
        number = phonenumbers.parse((value or "").strip(), (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise SubjectError(f"'{value}' is not a phone number; write it with its country code (+44 20 7946 0958) "
                           "or choose its country.") from None
    if not phonenumbers.is_possible_number(number):
        raise SubjectError(f"'{value}' has too few or too many digits for a phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_name(value: str) -> str:
    words = _WORD.findall((value or "").casefold())
    if not words or len(" ".join(words)) < 3:
        raise SubjectError("Give the person's name (at least three letters), or an email or phone number.")
    if len(words) > MAX_NAME_WORDS:
        raise SubjectError(f"A name has at most {MAX_NAME_WORDS} words.")
    return " ".join(words)


def phone_forms(candidate: str) -> set[str]:
    """Every E.164 number a phone written in a text can be: +CC numbers are one; a national number starting with
    0 is tried in the regions the PII finder tries, others as North American."""
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip("(").startswith("+") or (candidate.startswith("00") and len(digits) > 10):
        regions: tuple[str | None, ...] = (None,)
        candidate = "+" + candidate[2:] if candidate.startswith("00") else candidate
    else:
        regions = TRUNK_ZERO_REGIONS if digits.startswith("0") else (NORTH_AMERICAN_REGION,)
    forms = set()
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            forms.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return forms


@dataclass(frozen=True)
class Match:
    kind: str  # email | phone | name
    start: int
    end: int


@dataclass(frozen=True)
class Subject:
    """The normalised identifiers of one person; any one of them is enough to match."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    _name_patterns: tuple[re.Pattern, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_input(cls, email: str = "", phone: str = "", name: str = "", region: str | None = None) -> Subject:
        emails = tuple(normalise_email(v) for v in _parts(email))
        phones = tuple(normalise_phone(v, region) for v in _parts(phone))
        names = tuple(normalise_name(v) for v in _parts(name))
        if not (emails or phones or names):
            raise SubjectError("Give the person's email, phone number or name.")
        return cls(emails, phones, names)

    def __post_init__(self) -> None:
        patterns = tuple(re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, n.split())) + r"(?!\w)", re.IGNORECASE)
                         for n in self.names)
        object.__setattr__(self, "_name_patterns", patterns)

    def as_dict(self) -> dict:
        return {"emails": list(self.emails), "phones": list(self.phones), "names": list(self.names)}

    def key(self) -> str:
        """A keyed hash of all identifiers: names this subject's export files without writing who it is."""
        return keyed_hash("subject", "|".join(sorted(self.emails + self.phones + self.names)))

    def identifier_hashes(self) -> list[tuple[str, str, int]]:
        """(kind, keyed hash, word count) of each identifier, what the suppression list keeps."""
        return ([("email", keyed_hash("email", e), 0) for e in self.emails]
                + [("phone", keyed_hash("phone", p), 0) for p in self.phones]
                + [("name", keyed_hash("name", n), len(n.split())) for n in self.names])

    def matches(self, text: str) -> list[Match]:
        """Every span of `text` that is one of this subject's identifiers, in order, without overlaps."""
        if not isinstance(text, str) or not text:
            return []
        found: list[Match] = []
        if self.emails and "@" in text:
            wanted = set(self.emails)
            found += [Match("email", s, e) for _, s, e in find_emails(text) if text[s:e].casefold() in wanted]
        if self.phones:
            wanted = set(self.phones)
            found += [Match("phone", s, e) for _, s, e in find_phones(text) if phone_forms(text[s:e]) & wanted]
        for pattern in self._name_patterns:
            found += [Match("name", m.start(), m.end()) for m in pattern.finditer(text)]
        found.sort(key=lambda m: (m.start, -m.end))
        merged: list[Match] = []
        for match in found:
            if not merged or match.start >= merged[-1].end:
                merged.append(match)
        return merged


def redact(text: str, matches: list[Match]) -> str:
    for match in reversed(matches):
        text = text[:match.start] + REDACTION + text[match.end:]
    return text


def masked_snippet(text: str, match: Match, context: int = 30) -> str:
    """A short piece of text around a match with the identifier itself masked (first character kept), so the
    results table shows where the subject is without spreading their data further."""
    value = text[match.start:match.end]
    masked = value[0] + "•" * min(8, len(value) - 1)
    before = text[max(0, match.start - context):match.start]
    after = text[match.end:match.end + context]
    return " ".join(f"…{before}{masked}{after}…".split())


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 under SECRET_KEY: the same identifier always gives the same hash here, and a stolen list
    cannot be reversed by hashing a phone book without the key."""
    secret = get_settings().resolved_secret_key.encode()
    return hmac.new(secret, f"dbw.privacy.v1:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _parts(value: str) -> list[str]:
    """Several identifiers of one kind may be given separated by ';' or new lines."""
    return [part.strip() for part in re.split(r"[;\n]", value or "") if part.strip()]
