"""SPDX licence validation and a small, explained source-to-package compatibility table.

The SPDX list and the expression grammar (AND / OR / WITH, parentheses, case and alias
normalisation such as ``GPL-2.0+`` -> ``GPL-2.0-or-later``) come from the ``license-expression``
package, which ships the SPDX licence index in its wheel, so validation works offline.

This is a screening aid for an analyst, not legal advice: it flags combinations that are
clearly unsafe and names the source responsible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_spdx_licensing

SPDX_LICENSE_URL = "https://spdx.org/licenses/{}.html"
# SPDX's own syntax for a licence that is not on the list (a vendor EULA, a house licence).
_CUSTOM = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$", re.IGNORECASE)


class LicenseError(ValueError):
    """An SPDX expression that cannot be parsed or names an unknown licence."""


@dataclass(frozen=True)
class LicenseTerms:
    """What a licence demands of anyone redistributing a refined copy of the data."""

    attribution: bool  # credit must be kept downstream
    commercial: bool  # commercial use allowed
    share_alike: bool  # adaptations must carry the same licence (family)
    derivatives: bool  # adaptations allowed at all


@dataclass(frozen=True)
class Conflict:
    source: str
    source_license: str
    package_license: str
    rule: str  # one of the RULE_* names below
    reason: str


# The rule table, first match wins. Families are matched on the SPDX id so that every
# version and port (CC-BY-SA-3.0-DE, ...) lands in the same row.
_PUBLIC_DOMAIN = LicenseTerms(attribution=False, commercial=True, share_alike=False, derivatives=True)
_PERMISSIVE = LicenseTerms(attribution=True, commercial=True, share_alike=False, derivatives=True)
_SHARE_ALIKE = LicenseTerms(attribution=True, commercial=True, share_alike=True, derivatives=True)
_TERMS_BY_PATTERN: list[tuple[re.Pattern[str], LicenseTerms]] = [
    # LicenseTerms(attribution, commercial, share_alike, derivatives)
    (re.compile(r"^CC-BY-NC-ND-"), LicenseTerms(True, False, False, False)),
    (re.compile(r"^CC-BY-NC-SA-"), LicenseTerms(True, False, True, True)),
    (re.compile(r"^CC-BY-NC-"), LicenseTerms(True, False, False, True)),
    (re.compile(r"^CC-BY-ND-"), LicenseTerms(True, True, False, False)),
    (re.compile(r"^CC-BY-SA-"), _SHARE_ALIKE),
    (re.compile(r"^(ODbL-|CDLA-Sharing-|GPL-|AGPL-|LGPL-|MPL-2\.0)"), _SHARE_ALIKE),
    (re.compile(r"^CC-BY-\d"), _PERMISSIVE),
    (re.compile(r"^(CC0-1\.0|PDDL-1\.0|Unlicense|0BSD)$"), _PUBLIC_DOMAIN),
    (re.compile(r"^(MIT|Apache-2\.0|BSD-[23]-Clause|ISC|Zlib|ODC-By-1\.0|CDLA-Permissive-[12]\.0)$"),
     _PERMISSIVE),
]
# Share-alike licences that let adaptations move to a later version of the same licence.
_LATER_VERSION_OK = re.compile(r"^(CC-BY-SA-|CC-BY-NC-SA-|ODbL-|CDLA-Sharing-)|-or-later$")
_VERSION = re.compile(r"-(\d+(?:\.\d+)*)(?=(-only|-or-later)?$)")

# SPDX's markers for "nothing stated" and "no licence": neither grants anything.
_NO_LICENCE = {"", "NOASSERTION", "NONE"}

RULE_UNKNOWN = "unknown-or-proprietary"
RULE_NON_COMMERCIAL = "non-commercial"
RULE_NO_DERIVATIVES = "no-derivatives"
RULE_SHARE_ALIKE = "share-alike"
RULE_ATTRIBUTION = "attribution"


@lru_cache(maxsize=1)
def _licensing() -> Licensing:
    return get_spdx_licensing()


def _is_custom(key: str) -> bool:
    return bool(_CUSTOM.match(key))


def _parse(expression: str):
    if not isinstance(expression, str) or not expression.strip():
        raise LicenseError("licence is empty: give an SPDX id such as 'CC-BY-4.0' or 'MIT OR Apache-2.0'")
    licensing = _licensing()
    try:
        parsed = licensing.parse(expression, validate=False, strict=True)
    except ExpressionError as error:
        raise LicenseError(f"licence {expression!r} is not a valid SPDX expression: {error}") from None
    unknown = [symbol.key for symbol in licensing.license_symbols(parsed, decompose=True)
               if not _is_custom(symbol.key) and symbol.key not in licensing.known_symbols]
    if unknown:
        raise LicenseError(
            f"licence {expression!r} names unknown SPDX id(s) {', '.join(unknown)}; "
            "see https://spdx.org/licenses/ or use 'LicenseRef-<name>' for a custom licence"
        )
    return parsed


def normalize_license(expression: str) -> str:
    """The canonical spelling of a valid SPDX expression; raises LicenseError otherwise."""
    return str(_parse(expression))


def is_valid_license(expression: str) -> bool:
    try:
        _parse(expression)
    except LicenseError:
        return False
    return True


def _license_keys(parsed) -> list[str]:
    """Licence ids in a parsed expression; ``X WITH exception`` counts as X."""
    symbols = _licensing().license_symbols(parsed, decompose=False)
    return [getattr(symbol, "license_symbol", symbol).key for symbol in symbols]


def license_ids(expression: str) -> list[str]:
    """The licence ids an expression mentions, in order, exceptions excluded."""
    return _license_keys(_parse(expression))


def license_url(license_id: str) -> str | None:
    """The SPDX page of a listed licence, or None for a custom LicenseRef."""
    return None if _is_custom(license_id) else SPDX_LICENSE_URL.format(license_id)


def license_terms(license_id: str) -> LicenseTerms | None:
    """The terms of one SPDX id from the rule table, or None when unknown or proprietary."""
    for pattern, terms in _TERMS_BY_PATTERN:
        if pattern.search(license_id):
            return terms
    return None


def _alternatives(expression: str) -> list[list[str]]:
    """The expression in disjunctive normal form: any one inner list may be chosen, all of it applies."""
    licensing = _licensing()
    normal = licensing.dnf(_parse(expression))
    terms = normal.args if isinstance(normal, licensing.OR) else (normal,)
    return [_license_keys(term) for term in terms]


def _family_and_version(license_id: str) -> tuple[str, tuple[int, ...]]:
    match = _VERSION.search(license_id)
    if not match:
        return license_id, ()
    family = license_id[: match.start()] + license_id[match.end():]
    return family, tuple(int(part) for part in match.group(1).split("."))


def _pair_conflicts(source: str, source_id: str, package_id: str) -> list[Conflict]:
    """Every rule a single source licence id breaks when put into a single package licence id."""
    if source_id == package_id:
        return []

    def conflict(rule: str, reason: str) -> Conflict:
        return Conflict(source, source_id, package_id, rule, reason)

    source_terms = license_terms(source_id)
    if source_terms is None:
        return [conflict(RULE_UNKNOWN, f"{source_id} is unknown or proprietary (not in the compatibility "
                                       "table): it may only be repackaged under the identical licence")]
    # A custom package licence is read as "commercial use, no share-alike"; attribution is kept
    # because every package credits its sources in README.md and croissant.json.
    package_terms = license_terms(package_id) or _PERMISSIVE
    found = []
    if not source_terms.commercial and package_terms.commercial:
        found.append(conflict(RULE_NON_COMMERCIAL, f"{source_id} forbids commercial use but {package_id} "
                                                   "permits it: use a non-commercial package licence"))
    if not source_terms.derivatives:
        found.append(conflict(RULE_NO_DERIVATIVES, f"{source_id} forbids adaptations and a refined package "
                                                   "(filtered, cleaned, redacted) is one"))
    if source_terms.share_alike:
        source_family, source_version = _family_and_version(source_id)
        package_family, package_version = _family_and_version(package_id)
        later_allowed = bool(_LATER_VERSION_OK.search(source_id))
        if source_family != package_family or not (later_allowed and package_version >= source_version):
            allowed = f"{source_id} or a later version of it" if later_allowed else source_id
            found.append(conflict(RULE_SHARE_ALIKE, f"{source_id} is share-alike: the package must be "
                                                    f"licensed {allowed}"))
    if source_terms.attribution and not package_terms.attribution:
        found.append(conflict(RULE_ATTRIBUTION, f"{source_id} requires attribution but {package_id} lets "
                                                "re-users drop it"))
    return found


def check_license_compatibility(package_license: str, source_licenses: dict[str, str]) -> list[Conflict]:
    """Conflicts between the package licence and each source licence, naming the source.

    Expressions: a source offered as ``A OR B`` is fine when any choice fits; for the package,
    every licence it mentions must fit, because a re-user may pick any ``OR`` branch (and ``AND``
    is checked conservatively, each part on its own). Raises LicenseError for an invalid package
    licence; an invalid source licence is reported as a conflict of that source.
    """
    package_ids = license_ids(package_license)
    conflicts: list[Conflict] = []
    for source, source_license in source_licenses.items():
        if str(source_license or "").strip().upper() in _NO_LICENCE:
            conflicts.append(Conflict(source, str(source_license or ""), package_license, RULE_UNKNOWN,
                                      "no licence is recorded for this source: record one first"))
            continue
        try:
            choices = _alternatives(source_license)
        except LicenseError as error:
            conflicts.append(Conflict(source, str(source_license), package_license, RULE_UNKNOWN, str(error)))
            continue
        if normalize_license(source_license) == normalize_license(package_license):
            continue
        per_choice = [[found for source_id in choice for package_id in package_ids
                       for found in _pair_conflicts(source, source_id, package_id)] for choice in choices]
        if all(per_choice):
            conflicts.extend(min(per_choice, key=len))
    return conflicts
