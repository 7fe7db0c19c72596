"""Buckets (issue 17) against a local S3 server (moto's server mode on 127.0.0.1), never a real cloud."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from principals import as_supplier, new_user
from refine_fixtures import dataset_with_run

from core import auth
from core.config import get_settings, reset_settings_cache
from core.sources.bucket_jobs import ingest_bucket_source
from core.sources.buckets import BucketError, upload_package
from core.sources.registry import SourceError, save_source
from core.store.jobs import run_foreground

SECRET = f"s3cr3t-{uuid.uuid4().hex}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, workbench, monkeypatch):
    """Credentials from settings only, and the local server's exact host:port on the operator's allow-list."""
    endpoint, host_port = s3_server
    monkeypatch.setenv("BUCKET_ACCESS_KEY_ID", "testing-key-id")
    monkeypatch.setenv("BUCKET_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("BUCKET_REGION", "us-east-1")
    monkeypatch.setenv("NETWORK_ALLOWLIST", host_port)
    reset_settings_cache()
    import s3fs

    fs = s3fs.S3FileSystem(key="testing-key-id", secret=SECRET, endpoint_url=endpoint, skip_instance_cache=True,
                           client_kwargs={"region_name": "us-east-1"})
    bucket = f"dbw-{uuid.uuid4().hex[:10]}"
    import boto3

    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing-key-id", aws_secret_access_key=SECRET,
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    yield fs, bucket, endpoint
    for name in ("BUCKET_ACCESS_KEY_ID", "BUCKET_SECRET_ACCESS_KEY", "BUCKET_REGION", "NETWORK_ALLOWLIST"):
        monkeypatch.delenv(name)
    reset_settings_cache()


def _bucket_source(principal, bucket: str, endpoint: str, **extra) -> dict:
    name = f"bucket {uuid.uuid4().hex[:8]}"
    config = {"url": f"s3://{bucket}/incoming/", "endpoint_url": endpoint, "dataset": f"b-{uuid.uuid4().hex[:8]}",
              "attested": True, "origin": "enterprise", **extra}
    return save_source(principal, name, "uploads", "bucket", config, license="CC-BY-4.0")


def _jsonl(*titles: str) -> bytes:
    return "".join(json.dumps({"title": t, "text": f"about {t}"}) + "\n" for t in titles).encode()


def test_bucket_source_picks_up_new_and_changed_objects_and_skips_unchanged(s3, raw_store):
    fs, bucket, endpoint = s3
    fs.pipe_file(f"{bucket}/incoming/a.jsonl", _jsonl("alpha", "beta"))
    fs.pipe_file(f"{bucket}/incoming/b.csv", b"title,text\ngamma,about gamma\ndelta,bad,row\n")
    fs.pipe_file(f"{bucket}/incoming/notes.txt", b"not a table")
    fs.pipe_file(f"{bucket}/elsewhere/c.jsonl", _jsonl("outside the prefix"))
    source = _bucket_source(as_supplier(), bucket, endpoint)
    outcome = run_foreground("bucket_ingest", {"source": source["name"]}, as_supplier(), echo=None)
    assert outcome["status"] == "succeeded", outcome["error"]
    first = outcome["result"]
    assert (first["objects"], first["ingested"], first["skipped"], first["new"], first["rejected"]) == (3, 2, 1, 3, 1)

    second = ingest_bucket_source(as_supplier(), source["name"])
    assert (second["ingested"], second["unchanged"], second["new"]) == (0, 2, 0)

    fs.pipe_file(f"{bucket}/incoming/a.jsonl", _jsonl("alpha", "beta", "epsilon"))  # changed: new ETag and size
    fs.pipe_file(f"{bucket}/incoming/sub/d.jsonl", _jsonl("zeta"))  # new
    third = ingest_bucket_source(as_supplier(), source["name"])
    assert (third["ingested"], third["unchanged"], third["new"], third["already_present"]) == (2, 1, 2, 2)
    docs = raw_store.find("uploads", {"source_id": source["name"]}, limit=100)
    assert sorted(json.loads(d["raw_content"])["title"] for d in docs) == [
        "alpha", "beta", "epsilon", "gamma", "zeta"]
    assert {d["url"].rsplit("#", 1)[0] for d in docs} >= {f"s3://{bucket}/incoming/a.jsonl",
                                                           f"s3://{bucket}/incoming/sub/d.jsonl"}


def test_bucket_config_never_carries_secrets_or_network_policy(s3, monkeypatch):
    fs, bucket, endpoint = s3
    with pytest.raises(SourceError, match="looks like a credential"):
        _bucket_source(as_supplier(), bucket, endpoint, aws_secret_access_key=SECRET)
    with pytest.raises(SourceError, match="not a bucket option"):
        _bucket_source(as_supplier(), bucket, endpoint, allow_private=True)
    with pytest.raises(SourceError, match="Credentials do not belong"):
        save_source(as_supplier(), "bucket creds", "uploads", "bucket",
                    {"url": f"s3://key:{SECRET}@{bucket}/x", "dataset": "b-creds", "attested": True}, "MIT")
    monkeypatch.setenv("NETWORK_ALLOWLIST", "")
    reset_settings_cache()
    with pytest.raises(SourceError, match="allow-list"):
        _bucket_source(as_supplier(), bucket, endpoint)  # loopback endpoint, not allow-listed


def _bytes_read_by_another_process(paths: list[Path]) -> bytes:
    """The files' bytes, read by a child process. Opening and closing a SQLite file in this process would drop
    every POSIX lock SQLite holds on it here, and the next process to close the store would delete the WAL
    under this process's open connections (then "disk I/O error" in whatever test ran next)."""
    reader = "import sys\nfor name in sys.argv[1:]:\n    sys.stdout.buffer.write(open(name, 'rb').read())"
    existing = [str(path) for path in paths if path.exists()]
    return subprocess.run([sys.executable, "-c", reader, *existing], capture_output=True, check=True).stdout


def test_credentials_are_never_stored_in_the_database(s3):
    fs, bucket, endpoint = s3
    fs.pipe_file(f"{bucket}/incoming/a.jsonl", _jsonl("secretless"))
    source = _bucket_source(as_supplier(), bucket, endpoint)
    outcome = run_foreground("bucket_ingest", {"source": source["name"]}, as_supplier(), echo=None)
    assert outcome["status"] == "succeeded" and outcome["result"]["new"] == 1
    database = Path(get_settings().sql_url.removeprefix("sqlite:///"))
    stored = _bytes_read_by_another_process([database, database.with_name(database.name + "-wal")])
    assert len(stored) > 100_000  # the real store was read
    assert b"testing-key-id" not in stored and SECRET.encode() not in stored


def test_package_upload_to_bucket_verifies_checksums(s3):
    from core.packaging.build import PackageRequest, build_package

    fs, bucket, endpoint = s3
    dataset, _ = dataset_with_run()
    supplier = auth.demo_principal("supplier")
    package = build_package(supplier, PackageRequest(dataset=dataset["name"], title=f"Bucket {dataset['name']}",
                                                     license="CC-BY-4.0"))
    with pytest.raises(PermissionError):
        upload_package(new_user("supplier"), package["package_id"], f"s3://{bucket}/pkgs", endpoint_url=endpoint)
    result = upload_package(supplier, package["package_id"], f"s3://{bucket}/pkgs", endpoint_url=endpoint)
    assert result["verified"] and result["url"].startswith(f"s3://{bucket}/pkgs/")
    manifest = json.loads(fs.cat_file(result["url"].removeprefix("s3://") + "manifest.json"))
    assert set(manifest["files"]) <= set(result["checksums"])
    for relative, entry in manifest["files"].items():
        body = fs.cat_file(result["url"].removeprefix("s3://") + relative)
        assert hashlib.sha256(body).hexdigest() == entry["sha256"] == result["checksums"][relative]["sha256"]
    with pytest.raises(BucketError, match="refused"):
        upload_package(supplier, package["package_id"], f"s3://{bucket}/pkgs", endpoint_url="http://10.0.0.5:9000")
    job = run_foreground("bucket_package_upload", {"package_id": package["package_id"], "url": f"s3://{bucket}/job",
                                                   "endpoint_url": endpoint}, supplier, echo=None)
    assert job["status"] == "succeeded" and job["result"]["files"] == result["files"]


def test_cli_bucket_ingest_runs_the_job(s3, capsys):
    import os
    import subprocess
    import sys

    from core.cli import main

    fs, bucket, endpoint = s3
    fs.pipe_file(f"{bucket}/incoming/cli.jsonl", _jsonl("from the command line"))
    source = _bucket_source(as_supplier(), bucket, endpoint)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-m", "core", "bucket", "ingest", source["name"]], cwd=root,
                            capture_output=True, text=True, env=dict(os.environ), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "ingested=1" in result.stdout and "new=1" in result.stdout
    assert main(["bucket", "upload-package", "x"]) == 2
    assert "PACKAGE_ID and S3_URL" in capsys.readouterr().err
