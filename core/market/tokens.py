"""Signed, expiring download links, re-checked against the Sale every time they are used.

A token carries who it was issued to, the sale, the package, a random token id and its lifetime,
signed with SECRET_KEY (itsdangerous, timestamped). Signing alone is not trusted: redeeming looks
the sale up again, so a refund or revocation stops links that were handed out before it.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from core import audit
from core.auth import PermissionDenied, Principal
from core.config import get_settings
from core.market.downloads import DownloadError
from core.store.models import DataPackage, Download, Sale
from core.store.sql import session_scope

__all__ = ["DownloadError", "issue_download_token", "redeem_download_token"]

TOKEN_SALT = "dbw.download-token.v1"
MAX_TTL_S = 7 * 24 * 3600
EXPIRED = "This download link has expired; open the listing to get a new one."
INVALID = "This download link is not valid (it was altered or cut short); open the listing to get a new one."
_CLAIMS = {"user": int, "sale": int, "package": int, "token_id": str, "ttl": int}


def _now() -> float:
    """The clock tokens are aged by (tests move it instead of sleeping)."""
    return time.time()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key, salt=TOKEN_SALT)


# How a sale that is not paid reads in "This purchase ..., so its downloads are not available."
_SALE_STATE = {"pending": "is not paid yet", "expired": "expired before it was paid", "failed": "failed",
               "refunded": "was refunded", "chargeback": "was charged back"}


def _checked_sale(principal: Principal, sale: Sale | None) -> Sale:
    if sale is None:
        raise DownloadError("This purchase no longer exists; contact an admin if you think that is wrong.")
    if sale.status != "paid":
        state = _SALE_STATE.get(sale.status, f"is {sale.status}")
        raise DownloadError(f"This purchase {state}, so its downloads are not available.")
    if principal.role != "admin" and sale.buyer_id != principal.id:
        raise PermissionDenied("You can only download datasets you bought.")
    return sale


def issue_download_token(principal: Principal, sale_id: int, ttl_s: int = 3600) -> str:
    """A download link token for a paid sale, for its buyer (or an admin), valid for ttl_s seconds."""
    if principal is None:
        raise PermissionDenied("Sign in to download datasets.")
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or not 1 <= ttl_s <= MAX_TTL_S:
        raise DownloadError(f"A download link lives from 1 second to {MAX_TTL_S // 86400} days; "
                            f"got {ttl_s!r}.")
    with session_scope() as session:
        sale = _checked_sale(principal, session.get(Sale, sale_id))
        claims = {"user": principal.id, "sale": sale.id, "package": sale.package_id,
                  "token_id": secrets.token_hex(16), "ttl": ttl_s}
    return _serializer().dumps(claims)


def _verified_claims(token: str) -> dict:
    if not isinstance(token, str) or not token:
        raise DownloadError(INVALID)
    try:
        claims, signed_at = _serializer().loads(token, return_timestamp=True)
    except BadSignature:
        raise DownloadError(INVALID) from None
    if not isinstance(claims, dict) or any(not isinstance(claims.get(k), t) for k, t in _CLAIMS.items()):
        raise DownloadError(INVALID)
    # Each token carries its own lifetime, so the age check is ours rather than loads(max_age=...).
    if _now() - signed_at.timestamp() > claims["ttl"]:
        raise DownloadError(EXPIRED)
    return claims


def redeem_download_token(principal: Principal, token: str) -> dict:
    """Check a download link and record the download: {package_path, package_id, files, sale_id, token_id}."""
    if principal is None:
        raise PermissionDenied("Sign in to download datasets.")
    claims = _verified_claims(token)
    if principal.role != "admin" and principal.id != claims["user"]:
        raise PermissionDenied("This download link was issued to another account.")
    with session_scope() as session:
        sale = _checked_sale(principal, session.get(Sale, claims["sale"]))
        if sale.package_id != claims["package"]:
            raise DownloadError(INVALID)
        package = session.get(DataPackage, sale.package_id)
        available = package is not None and package.status == "published" and package.path
        if not available or not Path(package.path).is_dir():
            raise DownloadError("The files of this package are not available right now; contact the seller.")
        session.add(Download(sale_id=sale.id, user_id=principal.id, package_id=package.id,
                             token_id=claims["token_id"]))
        result = {"package_path": package.path, "package_id": package.id, "files": dict(package.files),
                  "sale_id": sale.id, "token_id": claims["token_id"], "package_name": package.name,
                  "package_version": package.version}
    audit.record("download", principal.id, f"package:{result['package_id']}", sale_id=result["sale_id"],
                 token_id=result["token_id"])
    return result
