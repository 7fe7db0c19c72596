"""A buyer's download from the app, in one call: the same checks, record and audit as a download link.

The API hands out a link (issue) and serves it later (redeem); the app has no link to hand out, so it issues
a short-lived one and redeems it at once. Either way the sale is checked (paid, bought by this principal or
an admin) and the download recorded.
"""

from __future__ import annotations

from core.auth import Principal
from core.market.downloads import verify_downloaded_archive
from core.market.tiers import buyer_archive
from core.market.tokens import issue_download_token, redeem_download_token

IN_APP_LINK_TTL_S = 60  # issued and redeemed in the same request


def purchase_download(principal: Principal | None, sale_id: int) -> dict:
    """{name, version, file_name, archive (zip bytes with the licence bought), problems (checksum failures)}.

    Raises PermissionDenied for someone else's purchase and DownloadError for an unpaid sale or missing files."""
    token = issue_download_token(principal, sale_id, ttl_s=IN_APP_LINK_TTL_S)
    grant = redeem_download_token(principal, token)
    archive = buyer_archive(grant)  # carries the licence bought (LICENSE-PURCHASED.md, dataset card)
    return {"name": grant["package_name"], "version": grant["package_version"],
            "file_name": f"{grant['package_name']}-{grant['package_version']}.zip", "archive": archive,
            "problems": verify_downloaded_archive(archive)}
