"""Cloud buckets through fsspec (S3 via s3fs): a bucket prefix as a source, and as a package destination.

A bucket source's config says where (`url` s3://bucket/prefix, optional `endpoint_url`, `region`,
`pattern`); it never says who: credentials come only from settings (BUCKET_ACCESS_KEY_ID, ...) or the
provider's own environment chain, so nothing secret is stored in the database, and a config that
tries to carry one is refused. An endpoint is a URL the workbench connects to on a user's behalf, so
it meets the same network policy as a crawl: a private or loopback endpoint (a local S3 server) is
reached only when its exact host:port is on the network allow-list.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from core import audit, tenancy
from core.auth import Principal
from core.config import get_settings
from core.sources.allowlist_admin import workbench_allowlist
from core.sources.netguard import URLRefused, check_url

SCHEMES = ("s3",)
CONFIG_KEYS = frozenset({"url", "endpoint_url", "region", "pattern", "dataset", "origin", "attested"})
_SECRET_WORDS = ("key", "secret", "token", "password", "credential", "auth")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
CHUNK = 1024 * 1024


class BucketError(ValueError):
    """A bucket URL, config or transfer is not usable; the message says what to fix."""


@dataclass(frozen=True)
class BucketLocation:
    scheme: str
    bucket: str
    prefix: str  # without leading or trailing "/"; may be empty

    @property
    def path(self) -> str:
        """The fsspec path of the prefix: 'bucket/prefix'."""
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.path}"


def parse_bucket_url(url: str) -> BucketLocation:
    text = (url or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise BucketError(f"{text or '(empty)'} is not a bucket URL; write s3://bucket/prefix.")
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket or ":" in bucket:
        raise BucketError("Credentials do not belong in a bucket URL; set BUCKET_ACCESS_KEY_ID and "
                          "BUCKET_SECRET_ACCESS_KEY (or the AWS_* environment) instead.")
    if not _BUCKET_NAME.match(bucket):
        raise BucketError(f"{bucket!r} is not a valid bucket name (3-63 lower-case letters, digits, '.', '-').")
    prefix = prefix.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise BucketError(f"The prefix {prefix!r} has an empty, '.' or '..' part.")
    return BucketLocation(scheme.lower(), bucket, prefix)


def check_bucket_config(config: dict) -> dict:
    """The cleaned config of a bucket source; refuses secrets, unknown keys and unreachable endpoints."""
    problems = []
    for key in config:
        lowered = str(key).lower()
        if lowered not in CONFIG_KEYS and any(word in lowered for word in _SECRET_WORDS):
            problems.append(f"'{key}' looks like a credential; credentials come only from settings or the "
                            "environment and are never stored with a source")
        elif lowered not in CONFIG_KEYS:
            problems.append(f"'{key}' is not a bucket option ({', '.join(sorted(CONFIG_KEYS))})")
    if problems:
        raise BucketError("; ".join(problems) + ".")
    location = parse_bucket_url(config.get("url", ""))
    cleaned = {"url": location.url, "pattern": (config.get("pattern") or "*").strip() or "*"}
    endpoint = (config.get("endpoint_url") or "").strip()
    if endpoint:
        check_endpoint(endpoint)
        cleaned["endpoint_url"] = endpoint.rstrip("/")
    if region := (config.get("region") or "").strip():
        if not re.match(r"^[a-z0-9-]{2,40}$", region):
            raise BucketError(f"{region!r} is not a region name such as eu-west-1.")
        cleaned["region"] = region
    for key in ("dataset", "origin", "attested"):
        if key in config:
            cleaned[key] = config[key]
    return cleaned


def check_endpoint(endpoint_url: str) -> None:
    """The network policy for an S3 endpoint: public, or a private host:port on the allow-list."""
    try:
        check_url(endpoint_url, workbench_allowlist())
    except URLRefused as exc:
        raise BucketError(f"The endpoint {endpoint_url} is refused: {exc}.") from None


def bucket_filesystem(location: BucketLocation, endpoint_url: str | None = None, region: str | None = None):
    """An fsspec filesystem for the bucket, with credentials from settings (else the provider's chain)."""
    if endpoint_url:
        check_endpoint(endpoint_url)  # again at use: the allow-list may have changed since the source was saved
    settings = get_settings()
    import s3fs  # imported here: only bucket work pays for botocore

    client_kwargs = {"region_name": region or settings.bucket_region} if (region or settings.bucket_region) else {}
    return s3fs.S3FileSystem(key=settings.bucket_access_key_id, secret=settings.bucket_secret_access_key,
                             token=settings.bucket_session_token, endpoint_url=endpoint_url or None,
                             client_kwargs=client_kwargs, skip_instance_cache=True)


def list_objects(fs, location: BucketLocation, pattern: str = "*") -> list[dict]:
    """Every object under the prefix whose name (relative to it) matches `pattern`: key, etag, size, mtime."""
    try:
        found = fs.find(location.path, detail=True)
    except FileNotFoundError:
        raise BucketError(f"{location.url} does not exist or is not readable with these credentials.") from None
    except PermissionError as exc:
        raise BucketError(f"{location.url}: access denied ({exc}).") from None
    objects = []
    for key, info in sorted(found.items()):
        if info.get("type") == "directory":
            continue
        relative = key[len(location.path):].lstrip("/") if key.startswith(location.path) else key
        if not fnmatch.fnmatch(relative, pattern) and not fnmatch.fnmatch(relative.rsplit("/", 1)[-1], pattern):
            continue
        mtime = info.get("LastModified") or info.get("mtime")
        objects.append({"key": key, "etag": str(info.get("ETag") or "").strip('"') or None,
                        "size": int(info.get("size") or 0), "mtime": str(mtime) if mtime is not None else None})
    return objects


def upload_package(principal: Principal, package_id: int, url: str, *, endpoint_url: str | None = None,
                   region: str | None = None) -> dict:
    """Upload a built package version's files to `url`/<name>/<version>/ and verify each one's SHA-256.

    Every file is read back from the bucket after upload and hashed; a mismatch raises BucketError
    naming the file. Returns the destination, file count, bytes and the verified checksums."""
    package = tenancy.package_for(principal, package_id, action="upload packages to a bucket")
    if package["status"] != "published" or not package.get("path"):
        raise BucketError("Only a published package version can be uploaded; build it first.")
    root = Path(package["path"])
    if not root.is_dir():
        raise BucketError(f"The files of {package['name']} {package['version']} are missing on disk.")
    location = parse_bucket_url(url)
    if endpoint_url:
        check_endpoint(endpoint_url)
    fs = bucket_filesystem(location, endpoint_url, region)
    destination = f"{location.path}/{package['name']}/{package['version']}"
    recorded = package.get("files") or {}
    uploaded, total = {}, 0
    for local in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = local.relative_to(root).as_posix()
        expected = _sha256_local(local)
        if relative in recorded and recorded[relative].get("sha256") not in (None, expected):
            raise BucketError(f"{relative} no longer matches the checksum recorded at build; rebuild the package.")
        remote = f"{destination}/{relative}"
        fs.put_file(str(local), remote)
        if (actual := _sha256_remote(fs, remote)) != expected:
            raise BucketError(f"{relative}: the bucket holds a different file (sha256 {actual[:12]}..., expected "
                              f"{expected[:12]}...); the upload was not completed.")
        uploaded[relative] = {"sha256": expected, "bytes": local.stat().st_size}
        total += local.stat().st_size
    result = {"url": f"{location.scheme}://{destination}/", "files": len(uploaded), "bytes": total,
              "checksums": uploaded, "verified": True}
    audit.record("package_uploaded", principal.id, f"package:{package_id}", url=result["url"], files=len(uploaded))
    return result


def _sha256_local(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_remote(fs, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb", cache_type="none") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
