"""Candidate finders for each PII kind: a regex proposes spans, the checks in pii_checks.py confirm them.

Every finder yields ``(kind, start, end)`` for matches inside ``text[pos:endpos]`` (lookbehinds and context
cues still read the text before ``pos``). Running a dozen regexes over a whole 3 KB document costs ~100 us
each, so ``numeric_windows`` and ``email_windows`` first find, in one fast pass, the few places a value can
be, and the finders only read those. Finders may overlap each other (a card number also looks like a phone
number); pii.py resolves overlaps by kind priority.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator

import phonenumbers

from core.refine.signals.pii_checks import (
    IBAN_LENGTHS,
    valid_card_number,
    valid_china_resident_id,
    valid_iban,
    valid_spanish_dni,
    valid_uk_nino,
    valid_us_ssn,
)

Span = tuple[str, int, int]

# National numbers starting with the trunk prefix 0 are tried in these regions, others as North American
# numbers; numbers written with +CC or 00CC carry their own region.
TRUNK_ZERO_REGIONS = ("GB", "DE", "FR", "IT", "NL", "AU", "IN", "BE", "AT", "CH")
NORTH_AMERICAN_REGION = "US"

EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                      r"[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])")
# Digit groups with phone-style separators, optionally led by + / 00 and with a bracketed area code.
_PHONE_RE = re.compile(r"(?<![\w+\-/.,$€£¥#(])(?=(?:[ \-./()+]{0,3}\d){7})(?:\+\s?|\(\+\d{1,3}\)\s?)?"
                       r"(?:\(\d{1,5}\)|\d{1,15})"
                       r"(?:(?:[ \-./]|(?<=\)))(?:\(\d{1,5}\)|\d{1,8})){0,7}"
                       r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,5})?(?![\w\-/%]|[.,]\d)", re.IGNORECASE)
_EXTENSION_RE = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d{1,5}$", re.IGNORECASE)
_CARD_RE = re.compile(r"(?<![\w\-/.,$€£¥])\d{4}(?:[ \-.]?\d{1,7}){1,4}(?![\w\-/%]|[.,]\d)")
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2} ?[A-Za-z0-9]{4}(?: ?[A-Za-z0-9]{1,4}){2,7}")
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}"
                      r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)")
# One alternation, so each window is scanned once for all national-id shapes; the group says which matched.
_NATIONAL_ID_RE = re.compile(
    r"(?<![\w\-./])(?P<ssn_area>\d{3})(?P<ssn_sep>[- ])(?P<ssn_group>\d{2})(?P=ssn_sep)(?P<ssn_serial>\d{4})"
    r"(?![\w\-]|[.,]\d)"
    r"|(?<![\w\-./])(?P<bare_area>\d{3})(?P<bare_group>\d{2})(?P<bare_serial>\d{4})(?![\w\-]|[.,]\d)"
    r"|(?<![A-Za-z0-9])(?P<nino_prefix>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D]"
    r"(?![A-Za-z0-9])"
    r"|(?<![\w\-])(?P<dni_number>[XYZ]\d{7}|\d{8})-?(?P<dni_letter>[A-Z])(?![\w\-])"
    r"|(?<![\w\-])(?P<china_id>\d{17}[\dXx])(?![\w\-])"
)

_NON_DIGIT_RE = re.compile(r"\D")
_DIGIT_RUN_RE = re.compile(r"\d+")
_CARD_SEPARATOR_RE = re.compile(r"[ \-.]")
_DATE_RE = re.compile(r"\d{1,4}([-/.])\d{1,2}\1\d{1,4}")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:[ .,]\d{3})+")
_ZIP_PLUS_FOUR_RE = re.compile(r"\d{5}-\d{4}")
# "Boston, MA 02108-1234": a US state code right before a ZIP+4 (which German numbers can also look like).
_US_STATE_BEFORE_RE = re.compile(
    r"\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    r"NC|ND|OH|OK|OR|PA|PR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\.?,?\s$")
_PHONE_CUE_RE = re.compile(r"(?:\b(?:tel|phone|call|mobile|cell|fax|whatsapp|contact|ring|text|dial|hotline|"
                           r"téléphone|telefon|teléfono|telefono|tél)|\u260e|\U0001f4de)\W*(?:\w+\W+){0,3}$",
                           re.IGNORECASE)
# Words that announce an identifier which is not personal data: order, tracking, ISBN, version numbers.
# A cue must sit right before the value in the same sentence ("model. 020 ..." is no cue).
_REFERENCE_CUE_RE = re.compile(r"(?:\b(?:order|invoice|tracking|track|ref|reference|isbn|issn|sku|serial|"
                               r"version|ver|build|release|model|part|item|ticket|case|booking|confirmation|"
                               r"receipt|patent|lot|batch|zip|zip code|postcode|postal code|plz)\b|"
                               r"\b(?:no|nr)\b\.?|#)[^\w.!?]{0,3}(?:(?:number|no|nr|id|code)\b\.?)?[^\w.!?]{0,3}$",
                               re.IGNORECASE)
_VERSION_CUE_RE = re.compile(r"\b(?:v|version|ver|build|release|firmware|kernel|python|node|java|chrome|"
                             r"firefox|ios|android|windows)\W{0,3}$", re.IGNORECASE)
_SSN_CUE_RE = re.compile(r"(?:ssn|social security(?: number| no)?)\W{0,5}$", re.IGNORECASE)
_CONTEXT_CHARS = 40

# Every PII value except emails and IPv6 addresses holds a run of 6+ digits and separators ("8.8.8.8",
# "123456" in a NINO, the digits of an IBAN); the margins take in prefixes ("+", "GB82 WEST ") and cues.
_NUMERIC_ZONE_RE = re.compile(r"\d[\d \-./()]{4,}\d")
_LEFT_MARGIN, _RIGHT_MARGIN = 16, 24
_EMAIL_LEFT, _EMAIL_RIGHT = 70, 260
_TOKEN_REST_RE = re.compile(r"\S*")


def _merged_windows(text: str, anchors: Iterator[tuple[int, int]], left: int,
                    right: int) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    for start, end in anchors:
        low = max(0, start - left)
        # End on a token boundary so no value is cut in two (the regexes treat endpos as the end of text).
        high = _TOKEN_REST_RE.match(text, min(len(text), end + right)).end()
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(high, windows[-1][1]))
        else:
            windows.append((low, high))
    return windows


def numeric_windows(text: str) -> list[tuple[int, int]]:
    return _merged_windows(text, (match.span() for match in _NUMERIC_ZONE_RE.finditer(text)),
                           _LEFT_MARGIN, _RIGHT_MARGIN)


def email_windows(text: str) -> list[tuple[int, int]]:
    at_signs, position = [], text.find("@")
    while position != -1:
        at_signs.append((position, position + 1))
        position = text.find("@", position + 1)
    return _merged_windows(text, iter(at_signs), _EMAIL_LEFT, _EMAIL_RIGHT)


def may_contain_ipv6(text: str) -> bool:
    return "::" in text or text.count(":") >= 7


def _before(text: str, start: int) -> str:
    return text[max(0, start - _CONTEXT_CHARS):start]


def find_emails(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    for match in EMAIL_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        yield "email", match.start(), match.end()


def _same_grouping(candidate: str, number: phonenumbers.PhoneNumber) -> bool:
    """Digits grouped exactly as the region writes its numbers ("07700 900123"): a phone, even when the range
    is unassigned."""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _DIGIT_RUN_RE.findall(candidate) == _DIGIT_RUN_RE.findall(national)


# A pure function of its arguments; memoised because boilerplate repeats the same number (and cue) on every
# page, and phonenumbers costs ~100 us per parse.
@functools.lru_cache(maxsize=8192)
def _phone_is_real(candidate: str, context: str) -> bool:
    candidate = _EXTENSION_RE.sub("", candidate)
    digits = _NON_DIGIT_RE.sub("", candidate)
    international = candidate.startswith(("+", "(+")) or (candidate.startswith("00") and len(digits) > 10)
    if not 7 <= len(digits) <= 15 or (international and len(digits) < 8):
        return False
    has_cue = bool(_PHONE_CUE_RE.search(context))
    if not has_cue and _REFERENCE_CUE_RE.search(context):
        return False
    if _DATE_RE.fullmatch(candidate) or (_ZIP_PLUS_FOUR_RE.fullmatch(candidate)
                                         and _US_STATE_BEFORE_RE.search(context)):
        return False
    # Bare digit runs are ids far more often than phones; thousands groups are amounts.
    if not (international or has_cue or candidate.startswith("(")) and (
            candidate.isdigit() or _THOUSANDS_RE.fullmatch(candidate)):
        return False
    if international:
        regions: tuple[str | None, ...] = (None,)
        candidate = "+" + candidate[2:] if candidate.startswith("00") else candidate
    else:
        regions = TRUNK_ZERO_REGIONS if digits.startswith("0") else (NORTH_AMERICAN_REGION,)
    possible = formatted_as_phone = False
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
        if phonenumbers.is_possible_number(number):
            possible = True
            formatted_as_phone = formatted_as_phone or _same_grouping(candidate, number)
    # Unassigned or fictional ranges (Ofcom drama numbers, made-up area codes) are only "possible": accept
    # them where the writing says phone - a cue word, +CC, a bracketed area code or the national grouping.
    return possible and (formatted_as_phone or has_cue or international or candidate.startswith("("))


def find_phones(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    for match in _PHONE_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        if _phone_is_real(match.group(), _before(text, match.start())):
            yield "phone", match.start(), match.end()


def _card_grouping_ok(candidate: str) -> bool:
    """Printed cards are unseparated or grouped 4-4-4-4(-3), 4-6-5 (Amex) or 4-6-4 (Diners), always with one
    kind of separator."""
    groups = _CARD_SEPARATOR_RE.split(candidate)
    if len(groups) == 1:
        return True
    if len({sep for sep in candidate if not sep.isdigit()}) > 1:
        return False
    sizes = [len(group) for group in groups]
    return sizes[:-1] == [4] * (len(sizes) - 1) and 1 <= sizes[-1] <= 4 or sizes in ([4, 6, 5], [4, 6, 4])


def find_cards(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    for match in _CARD_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        candidate = match.group()
        digits = _NON_DIGIT_RE.sub("", candidate)
        if valid_card_number(digits) and _card_grouping_ok(candidate) \
                and not _REFERENCE_CUE_RE.search(_before(text, match.start())):
            yield "card", match.start(), match.end()


def _iban_end(text: str, match: re.Match) -> int | None:
    """End of a valid IBAN starting at the match, or None. The regex may run on into the next words
    ("... 3000 and NL91 ..."), so the IBAN is cut at its country's length first."""
    expected = IBAN_LENGTHS.get(match.group()[:2].upper())
    char_offsets = [offset for offset, char in enumerate(match.group()) if char != " "]
    if expected is None or len(char_offsets) < expected:
        return None
    end = match.start() + char_offsets[expected - 1] + 1
    if text[end:end + 1].isalnum() or not valid_iban(text[match.start():end].replace(" ", "").upper()):
        return None
    return end


def find_ibans(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    endpos = len(text) if endpos is None else endpos
    while match := _IBAN_RE.search(text, pos, endpos):
        end = _iban_end(text, match)
        if end is not None:
            yield "iban", match.start(), end
        # Resume right after what was used, not after the whole match: it may have swallowed the next IBAN.
        pos = match.start() + 1 if end is None else end


def find_ipv4_addresses(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    for match in _IPV4_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        if _VERSION_CUE_RE.search(_before(text, match.start())):
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield "ip", match.start(), match.end()


def find_ipv6_addresses(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    for match in _IPV6_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        candidate = match.group()
        if candidate.strip(":").count(":") < 2 and "::" not in candidate.strip(":"):
            continue
        for end in (match.end(), match.end() - 1) if candidate.endswith(":") else (match.end(),):
            try:
                ipaddress.IPv6Address(text[match.start():end])
            except ValueError:
                continue
            if sum(char.isalnum() for char in text[match.start():end]) >= 4:
                yield "ip", match.start(), end
            break


def _national_id_valid(match: re.Match, text: str) -> bool:
    if match["ssn_area"]:
        return valid_us_ssn(match["ssn_area"], match["ssn_group"], match["ssn_serial"])
    if match["bare_area"]:  # nine bare digits are an SSN only when the text says so
        return bool(_SSN_CUE_RE.search(_before(text, match.start()))) and valid_us_ssn(
            match["bare_area"], match["bare_group"], match["bare_serial"])
    if match["nino_prefix"]:
        return valid_uk_nino(match["nino_prefix"])
    if match["dni_number"]:
        return valid_spanish_dni(match["dni_number"], match["dni_letter"])
    return valid_china_resident_id(match["china_id"])


def find_national_ids(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Span]:
    """US SSN (SSA issuing rules), UK NINO (prefix rules), Spanish DNI/NIE and PRC resident id (checksums)."""
    for match in _NATIONAL_ID_RE.finditer(text, pos, len(text) if endpos is None else endpos):
        if _national_id_valid(match, text):
            yield "national_id", match.start(), match.end()


NUMERIC_FINDERS = (find_ibans, find_cards, find_national_ids, find_ipv4_addresses, find_phones)
# When two findings overlap, the kind ranked first wins (a Luhn-valid card number is a card, not a phone).
KIND_PRIORITY = {"email": 0, "iban": 1, "card": 2, "national_id": 3, "ip": 4, "phone": 5}
