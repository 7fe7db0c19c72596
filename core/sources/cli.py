"""`python -m core ingest | extract | scrape | bucket | allow-host`: the sources features from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.sources.ingest import ORIGINS


def register(sub: argparse._SubParsersAction) -> None:
    ingest = sub.add_parser(
        "ingest", help="Load a CSV, JSONL, JSON, Parquet (any size, .gz too), text or ZIP file into the raw store.",
        description="Load a file into the raw store (same code as the Upload page) and standardize it into items. "
                    "Prints counts of new, already present and rejected records (with line numbers).")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--app", required=True, help="application database, e.g. news, marketplace, uploads")
    ingest.add_argument("--dataset", required=True, help="dataset name (created if new)")
    ingest.add_argument("--license", required=True, help="SPDX licence id of the data, e.g. CC-BY-4.0")
    ingest.add_argument("--origin", default="enterprise", choices=ORIGINS)
    ingest.add_argument("--notes", default="")
    ingest.add_argument("--attest", action="store_true",
                        help="I have the right to supply this data (required: nothing is ingested without it)")
    ingest.set_defaults(handler=_cmd_ingest)

    scrape = sub.add_parser("scrape", help="Crawl saved sources, or the local demo sites, into the raw store.",
                            description="Crawl saved sources (by name; social sources collect new public posts) "
                                        "or, with --demo / --demo-social, the built-in demo sites or demo "
                                        "Mastodon and Bluesky servers on 127.0.0.1. Runs the same job as the "
                                        "Sources page.")
    scrape.add_argument("sources", nargs="*", metavar="SOURCE", help="saved source names")
    scrape.add_argument("--demo", action="store_true", help="start the local demo sites and crawl them")
    scrape.add_argument("--demo-social", action="store_true",
                        help="start the local demo Mastodon and Bluesky servers and collect their posts")
    scrape.set_defaults(handler=_cmd_scrape)

    extract = sub.add_parser("extract", help="Extract an article or a listing from HTML files or URLs.",
                             description="Print one JSON object per input (.html.gz read transparently).")
    extract.add_argument("kind", choices=("article", "listing"))
    extract.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    extract.set_defaults(handler=_cmd_extract)

    bucket = sub.add_parser(
        "bucket", help="Ingest a bucket source's new or changed objects, or upload a package version to a bucket.",
        description="Buckets through fsspec (s3://bucket/prefix). Credentials come from BUCKET_ACCESS_KEY_ID / "
                    "BUCKET_SECRET_ACCESS_KEY (or the AWS_* environment); a private endpoint must be allow-listed.")
    bucket.add_argument("action", choices=("ingest", "upload-package"))
    bucket.add_argument("target", metavar="SOURCE_OR_PACKAGE_ID", help="bucket source name, or package id")
    bucket.add_argument("url", nargs="?", metavar="S3_URL", help="destination for upload-package, s3://bucket/prefix")
    bucket.add_argument("--endpoint-url", default=None, help="S3-compatible endpoint (upload-package)")
    bucket.set_defaults(handler=_cmd_bucket)

    allow = sub.add_parser(
        "allow-host", help="List, add or remove exact HOST:PORT pairs crawls may reach although private.",
        description="The network allow-list: a private, loopback or link-local address is fetched only when its "
                    "exact HOST:PORT is listed here (admin entries) or in NETWORK_ALLOWLIST. Runs as the local "
                    "operator (an admin); every change is audit-recorded.")
    allow.add_argument("action", choices=("list", "add", "remove"))
    allow.add_argument("endpoint", nargs="?", metavar="HOST:PORT", help="e.g. 127.0.0.1:8080 or [::1]:8443")
    allow.add_argument("--reason", default="", help="why this host:port may be reached (required for add)")
    allow.set_defaults(handler=_cmd_allow_host)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.sources.stream_ingest import ingest_path
    from core.sources.upload_formats import UploadError
    from core.store.raw import RawStoreError, validate_app_name

    if not args.attest:
        print("Refused: pass --attest to confirm you have the right to supply this data. Nothing was ingested.",
              file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    try:
        validate_app_name(args.app)  # before init, so a typo costs nothing and prints one line
    except RawStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    init_workbench()
    try:
        # Streamed from disk in constant memory (INGEST_MAX_GB); an interrupted run resumes when re-run.
        report = ingest_path(cli_principal(), args.file, app=args.app, dataset=args.dataset, license=args.license,
                             attest=True, origin=args.origin, notes=args.notes, progress=_progress_printer())
    except (UploadError, PermissionError) as exc:
        print(f"Refused: {exc}", file=sys.stderr)
        return 2
    rejected = report.get("rejected_count", len(report["rejected"]))
    print(f"{args.file.name} -> {report['app']}/{report['dataset']}: new={report['new']} "
          f"already_present={report['already_present']} rejected={rejected} items={report['items_created']}")
    if report.get("resumed_from_line"):
        print(f"  resumed after line {report['resumed_from_line']:,} (an earlier run was interrupted)")
    for member, line, reason in report["rejected"][:200]:
        print(f"  rejected {member} line {line}: {reason}")
    if rejected > 200:
        print(f"  ... and {rejected - 200} more rejected rows")
    for member, line, what in report["warnings"][:200]:
        print(f"  kept {member} line {line}: {what}")
    return 0


def _progress_printer(every_s: float = 5.0):
    """Progress on stderr every few seconds, so a multi-GB ingest shows it is moving."""
    import time

    last = [time.monotonic()]

    def show(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            print(f"[{fraction:6.1%}] {message}", file=sys.stderr, flush=True)
    return show


def _cmd_scrape(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.store.jobs import run_foreground

    if not args.demo and not args.demo_social and not args.sources:
        print("error: name saved sources to scrape, or pass --demo or --demo-social", file=sys.stderr)
        return 2
    init_workbench()
    outcome = run_foreground("scrape", {"demo": args.demo, "demo_social": args.demo_social, "sources": args.sources},
                             cli_principal(), echo=print)
    if outcome["status"] != "succeeded":
        print(f"error: {outcome['error']}", file=sys.stderr)
        return 1
    result = outcome["result"]
    print(f"Scraped {result['pages']} pages; {result['stored_new']} new raw documents.")
    for name, counts in result["sources"].items():
        print(f"  {name}: " + " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from core.sources.extract_article import extract_article
    from core.sources.extract_listing import extract_listing

    extractor = extract_article if args.kind == "article" else extract_listing
    status = 0
    for source in args.inputs:
        try:
            html, url = _read_input(source)
            result = {"source": source, **extractor(html, url)}
        except (OSError, ValueError) as exc:
            result, status = {"source": source, "error": str(exc)}, 1
        print(json.dumps(result, ensure_ascii=False, default=str))
    return status


def _read_input(source: str) -> tuple[str, str | None]:
    if source.startswith(("http://", "https://")):
        from core.bootstrap import init_workbench
        from core.sources.allowlist_admin import workbench_allowlist
        from core.sources.fetch import fetch_page_html

        init_workbench()  # the admin allow-list entries live in the SQL store
        return fetch_page_html(source, allowed_endpoints=workbench_allowlist())
    from core.sources.html_text import read_html_file

    return read_html_file(source), None


def _cmd_bucket(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.store.jobs import run_foreground

    if args.action == "upload-package" and (not args.url or not args.target.isdigit()):
        print("error: bucket upload-package needs PACKAGE_ID and S3_URL, e.g. 3 s3://bucket/packages", file=sys.stderr)
        return 2
    init_workbench()
    if args.action == "ingest":
        outcome = run_foreground("bucket_ingest", {"source": args.target}, cli_principal(), echo=print)
    else:
        outcome = run_foreground("bucket_package_upload", {"package_id": int(args.target), "url": args.url,
                                                           "endpoint_url": args.endpoint_url}, cli_principal(),
                                 echo=print)
    if outcome["status"] != "succeeded":
        print(f"error: {outcome['error']}", file=sys.stderr)
        return 1
    print(" ".join(f"{key}={value}" for key, value in outcome["result"].items()))
    return 0


def _cmd_allow_host(args: argparse.Namespace) -> int:
    from core.auth import cli_principal
    from core.bootstrap import init_workbench
    from core.sources import allowlist_admin

    if args.action != "list" and not args.endpoint:
        print(f"error: allow-host {args.action} needs HOST:PORT, e.g. 127.0.0.1:8080", file=sys.stderr)
        return 2
    init_workbench()
    principal = cli_principal()
    try:
        if args.action == "add":
            entry = allowlist_admin.add_allowed_endpoint(principal, args.endpoint, args.reason)
            print(f"Allowed {entry['endpoint']} ({entry['reason']}).")
        elif args.action == "remove":
            allowlist_admin.remove_allowed_endpoint(principal, args.endpoint)
            print(f"Removed {args.endpoint} from the allow-list.")
        else:
            entries = allowlist_admin.list_allowed_endpoints(principal)
            if not entries:
                print("The network allow-list is empty: no private host:port may be fetched.")
            for entry in entries:
                print(f"{entry['endpoint']:<30} {entry['origin']:<9} {entry['reason']}")
    except ValueError as exc:
        print(f"Refused: {exc}", file=sys.stderr)
        return 2
    return 0
