"""Packages of media datasets: uploaded images, audio and video travel as files with their checksums, EXIF
GPS and serials are stripped when the recipe redacts personal data, Croissant (mlcroissant) and
datapackage.json (frictionless) describe them; bad files and videos get clear reasons, never crashes."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import uuid
import zlib
from pathlib import Path

import mlcroissant  # slow import (~3 s): once per module
import numpy as np
import pandas as pd
import pytest
import soundfile
from frictionless import validate as frictionless_validate
from media_fixtures import personal_exif
from PIL import ExifTags, Image
from sqlmodel import select

from core import auth, explore
from core.config import get_settings
from core.packaging.build import PackageRequest, build_package
from core.packaging.manifest import MANIFEST_NAME, verify_package
from core.packaging.media import MediaPackagingError, attach_media
from core.refine.service import refine_dataset
from core.refine.signals.media_image import personal_exif_fields
from core.refine.signals.media_video import video_signals
from core.sources.ingest import ingest_upload
from core.sources.upload_formats import UploadError
from core.store.models import Item, RefinementRecord
from core.store.raw import get_raw_store
from core.store.sql import session_scope

RATE = 16_000


def _photo(seed: int, size=(320, 240)) -> Image.Image:
    """A textured picture (sharp edges, mid brightness) that the uploads recipe keeps."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]]
    base = 110 + 50 * np.sin(x / (17.0 + seed)) * np.cos(y / (11.0 + seed))
    for _ in range(30):
        x0, y0 = rng.integers(0, size[0] - 40), rng.integers(0, size[1] - 40)
        base[y0:y0 + rng.integers(8, 40), x0:x0 + rng.integers(8, 40)] = rng.integers(20, 235)
    rgb = np.stack([base, base * 0.85, base * 0.7], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_with_gps() -> bytes:
    return _encode(_photo(1), "PNG", exif=personal_exif())


def wav(seconds: float = 1.0) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    out = io.BytesIO()
    soundfile.write(out, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE, format="WAV",
                    subtype="PCM_16")
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version_flags: int, payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags) + payload)


def mp4(width=320, height=240, seconds=2.0, codec=b"avc1", padding=0) -> bytes:
    """A minimal MP4 (ftyp, moov with one video track, mdat): the header a camera or encoder writes, with
    `padding` bytes of media data. No frames: the workbench reads the container, never decodes."""
    timescale, duration = 1000, int(seconds * 1000)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(b"mvhd", 0, struct.pack(">IIIIIH", 0, 0, timescale, duration, 0x10000, 0x100) + b"\0" * 10
                     + matrix + b"\0" * 24 + struct.pack(">I", 2))
    tkhd = _full_box(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, duration) + b"\0" * 8
                     + struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", width << 16, height << 16))
    mdhd = _full_box(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, struct.pack(">I", 0) + b"vide" + b"\0" * 12 + b"VideoHandler\0")
    entry = _box(codec, b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HHIIIH", width, height,
                 0x480000, 0x480000, 0, 1) + b"\0" * 32 + struct.pack(">Hh", 0x18, -1))
    stbl = _box(b"stbl", _full_box(b"stsd", 0, struct.pack(">I", 1) + entry)
                + _full_box(b"stts", 0, struct.pack(">I", 0)) + _full_box(b"stsc", 0, struct.pack(">I", 0))
                + _full_box(b"stsz", 0, struct.pack(">II", 0, 0)) + _full_box(b"stco", 0, struct.pack(">I", 0)))
    dinf = _box(b"dinf", _full_box(b"dref", 0, struct.pack(">I", 1) + _full_box(b"url ", 1, b"")))
    minf = _box(b"minf", _full_box(b"vmhd", 1, b"\0" * 8) + dinf + stbl)
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf)))
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    return ftyp + moov + _box(b"mdat", bytes(padding))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels and that carries no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", 0) + b"IDAT" + struct.pack(">I", zlib.crc32(b"IDAT"))


GOOD_FILES = {"where.png": png_with_gps(), "plain.jpg": _encode(_photo(2), "JPEG", quality=90), "tone.wav": wav(),
              "clip.mp4": mp4()}
BAD_FILES = {"cut.png": _encode(_photo(3), "PNG")[:3000], "empty.wav": b"", "huge.png": png_header_only(40_000, 40_000)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(principal, dataset: str, name: str, data: bytes):
    return ingest_upload(principal, name, data, app="uploads", dataset=dataset, license="CC-BY-4.0",
                         origin="university", attested=True)


@pytest.fixture(scope="module")
def media_package(workbench) -> dict:
    """A dataset of good and bad media uploads, refined by the real engine (uploads recipe: PII redacted),
    and packaged."""
    principal = auth.demo_principal("supplier")
    dataset = f"media-pkg-{uuid.uuid4().hex[:8]}"
    for name, data in {**GOOD_FILES, **BAD_FILES}.items():
        assert upload(principal, dataset, name, data).binaries_stored == 1
    run = refine_dataset(principal, dataset)
    built = build_package(principal, PackageRequest(dataset=dataset, title=f"Media {dataset}", license="CC-BY-4.0"))
    with session_scope() as session:
        records = session.exec(select(Item.title, RefinementRecord.drop_reason)
                               .join(RefinementRecord, RefinementRecord.item_id == Item.id)
                               .where(RefinementRecord.run_id == run["run_id"])).all()
    rows = [json.loads(line) for line in (Path(built["path"]) / "data/data.jsonl").read_text().splitlines()]
    return {"built": built, "root": Path(built["path"]), "rows": {row["filename"]: row for row in rows},
            "reasons": dict(records)}


def test_media_files_are_packaged_with_manifest_checksums(media_package):
    root, rows = media_package["root"], media_package["rows"]
    assert set(rows) == set(GOOD_FILES)
    manifest = json.loads((root / MANIFEST_NAME).read_text())["files"]
    media_on_disk = sorted(p.relative_to(root).as_posix() for p in (root / "media").iterdir())
    assert media_on_disk == sorted(row["media_path"] for row in rows.values())
    for name, row in rows.items():
        assert row["media_path"] == f"media/{row['id']}{Path(name).suffix}"
        packaged = (root / row["media_path"]).read_bytes()
        assert manifest[row["media_path"]] == {"sha256": sha256(packaged), "bytes": len(packaged)}
        assert "gridfs_id" not in row and "bytes" not in row  # storage details stay in the workbench
    for name in ("plain.jpg", "tone.wav", "clip.mp4"):  # nothing personal in them: the upload, byte for byte
        assert (root / rows[name]["media_path"]).read_bytes() == GOOD_FILES[name]
    assert {rows[n]["data_type"] for n in rows} == {"image", "audio", "video"}
    assert verify_package(root) == []
    assert media_package["built"]["files"] == manifest


def test_gps_and_serials_are_stripped_when_the_recipe_redacts(media_package):
    original = Image.open(io.BytesIO(GOOD_FILES["where.png"]))
    assert personal_exif_fields(original) == ["camera_serial", "gps"]
    packaged = Image.open(media_package["root"] / media_package["rows"]["where.png"]["media_path"])
    assert personal_exif_fields(packaged) == []
    assert packaged.getexif()[ExifTags.Base.Make] == "TestCam"  # harmless EXIF stays
    assert np.array_equal(np.asarray(packaged.convert("RGB")), np.asarray(original.convert("RGB")))
    card = (media_package["root"] / "README.md").read_text()
    assert "EXIF GPS positions and camera and lens serial numbers were removed" in card
    assert "## Media files" in card


def test_without_redaction_the_image_is_packaged_as_uploaded():
    rows = pd.DataFrame({"id": [7, 8], "data_type": ["image", "text"], "filename": ["a.png", None],
                         "mime_type": ["image/png", None], "gridfs_id": ["g1", None], "bytes": [1, None]})
    kept_rows, files = attach_media(rows, strip_personal=False, read=lambda fields: GOOD_FILES["where.png"])
    assert kept_rows["media_path"].tolist() == ["media/7.png", None]
    assert "gridfs_id" not in kept_rows and [f.path for f in files] == ["media/7.png"]
    assert files[0].load() == GOOD_FILES["where.png"]
    _, stripped = attach_media(rows, strip_personal=True, read=lambda fields: GOOD_FILES["where.png"])
    assert personal_exif_fields(Image.open(io.BytesIO(stripped[0].load()))) == []
    _, broken = attach_media(rows, strip_personal=True, read=lambda fields: b"not an image")
    with pytest.raises(MediaPackagingError, match="item 7: its image cannot be re-saved"):
        broken[0].load()


def test_croissant_describes_media_and_validates(media_package):
    root = media_package["root"]
    dataset = mlcroissant.Dataset(jsonld=root / "croissant.json")
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    document = json.loads((root / "croissant.json").read_text())
    file_sets = {entry["encodingFormat"]: entry for entry in document["distribution"]
                 if entry["@type"] == "cr:FileSet"}
    assert set(file_sets) == {"image/png", "image/jpeg", "audio/x-wav", "video/mp4"}
    assert file_sets["image/png"]["includes"] == "media/*.png"
    record_sets = {record_set["@id"]: record_set for record_set in document["recordSet"]}
    content = {f["name"]: f["dataType"] for f in record_sets["media-png"]["field"]}
    assert content == {"filename": "sc:Text", "content": "sc:ImageObject"}
    assert {f["name"]: f["dataType"] for f in record_sets["media-mp4"]["field"]}["content"] == "sc:VideoObject"
    assert "records/media_path" in {f["@id"] for f in record_sets["records"]["field"]}
    records = list(dataset.records("records"))
    assert sorted(r["records/media_path"].decode() for r in records) == sorted(
        row["media_path"] for row in media_package["rows"].values())
    [png] = list(dataset.records("media-png"))
    assert png["media-png/filename"].decode() == Path(media_package["rows"]["where.png"]["media_path"]).name
    assert png["media-png/content"].size == (320, 240)


def test_datapackage_lists_media_resources_and_validates(media_package):
    root = media_package["root"]
    report = frictionless_validate(str(root / "datapackage.json"))
    assert report.valid, report.flatten(["taskNumber", "type", "fieldName", "note"])
    descriptor = json.loads((root / "datapackage.json").read_text())
    media = {r["path"]: r for r in descriptor["resources"] if r["path"].startswith("media/")}
    manifest = json.loads((root / MANIFEST_NAME).read_text())["files"]
    assert set(media) == {row["media_path"] for row in media_package["rows"].values()}
    for path, resource in media.items():
        assert resource["hash"] == f"sha256:{manifest[path]['sha256']}" and resource["bytes"] == manifest[path]["bytes"]
    assert {r["mediatype"] for r in media.values()} == {"image/png", "image/jpeg", "audio/x-wav", "video/mp4"}


def test_frictionless_catches_a_changed_media_file(media_package, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(media_package["root"], copy)
    target = copy / media_package["rows"]["tone.wav"]["media_path"]
    target.chmod(0o644)
    target.write_bytes(wav(seconds=1.0)[:-2] + b"\x01\x02")
    assert not frictionless_validate(str(copy / "datapackage.json")).valid
    assert any("sha256 mismatch" in problem for problem in verify_package(copy))


def test_bad_media_files_are_dropped_with_clear_reasons(media_package):
    reasons = media_package["reasons"]
    assert reasons["cut.png"] in ("media_problem=truncated", "media_problem=corrupt")
    assert reasons["empty.wav"] == "media_problem=empty"
    assert reasons["huge.png"] == "media_problem=too_large"
    assert not any(reasons[name] for name in GOOD_FILES)  # kept: no drop reason


def test_video_container_metadata_is_read_and_recorded(workbench):
    assert video_signals(mp4(1920, 1080, 12.5, b"hvc1")) == {
        "video_container": "video/mp4", "video_duration_s": 12.5, "video_width": 1920, "video_height": 1080,
        "video_codec": "hvc1"}
    principal = auth.demo_principal("supplier")
    dataset = f"media-video-{uuid.uuid4().hex[:8]}"
    upload(principal, dataset, "clip.mov", mp4(640, 360, 3.0))
    doc = get_raw_store().find("uploads", {"source_id": f"upload:{dataset}"}, limit=1)[0]
    assert doc["metadata"]["mime_type"] == "video/quicktime"
    assert doc["metadata"]["container"] == {"video_container": "video/mp4", "video_duration_s": 3.0,
                                            "video_width": 640, "video_height": 360, "video_codec": "avc1"}
    preview = explore.record_media(principal, "uploads", str(doc["_id"]))
    assert preview["kind"] == "video" and preview["data"] == mp4(640, 360, 3.0)
    assert preview["container"]["video_width"] == 640


@pytest.mark.parametrize(("name", "data", "message"), [
    ("cut.mp4", mp4()[:40], "names no duration and no picture size"),
    ("photo.mp4", _encode(_photo(4), "PNG"), "not a readable video container"),
    ("empty.mkv", b"", "the video file is empty"),
    ("noise.avi", bytes(range(256)) * 8, "not a readable video container"),
])
def test_unreadable_videos_are_refused_with_the_reason(workbench, name, data, message):
    dataset = f"media-video-{uuid.uuid4().hex[:8]}"
    with pytest.raises(UploadError, match=message) as refused:
        upload(auth.demo_principal("supplier"), dataset, name, data)
    assert "container header is intact" in str(refused.value)
    assert get_raw_store().find("uploads", {"source_id": f"upload:{dataset}"}, limit=1) == []


def test_each_type_limit_is_enforced_including_video(workbench, monkeypatch):
    principal = auth.demo_principal("supplier")
    settings = get_settings()
    for setting in ("upload_max_text_mb", "upload_max_image_mb", "upload_max_audio_mb", "upload_max_video_mb"):
        monkeypatch.setattr(settings, setting, 1)
    big = 1024 * 1024 + 1
    cases = {"notes.txt": (b"word " * (big // 5 + 1), "text and table uploads are limited to 1 MB"),
             "big.png": (_encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (800, 800, 3),
                                                                                 dtype=np.uint8)), "PNG"),
                         "image files are limited to 1 MB"),
             "long.wav": (wav(seconds=40), "audio files are limited to 1 MB"),
             "long.mp4": (mp4(padding=big), "video files are limited to 1 MB \\(setting upload_max_video_mb\\)")}
    for name, (data, message) in cases.items():
        with pytest.raises(UploadError, match=message):
            upload(principal, f"media-limit-{uuid.uuid4().hex[:8]}", name, data)
    monkeypatch.setattr(settings, "upload_max_video_mb", 2)
    assert upload(principal, f"media-limit-{uuid.uuid4().hex[:8]}", "long.mp4", mp4(padding=big)).binaries_stored == 1


def test_raw_explorer_page_plays_a_video_with_its_metadata(workbench):
    import streamlit as st
    from apptest_helpers import assert_no_exception, page_app

    dataset = f"media-page-{uuid.uuid4().hex[:8]}"
    upload(auth.demo_principal("admin"), dataset, "walk.mp4", mp4(1280, 720, 4.5))
    st.cache_data.clear()  # the page caches the applications and sources for a few seconds
    at = page_app("raw_explorer.py")
    at.selectbox(key="rawx_app").select("uploads").run()
    at.selectbox(key="rawx_source").select(f"upload:{dataset}").run()
    at.session_state[at.session_state["rawx_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)
    assert len(at.get("video")) == 1
    assert any("width: 1280" in c.value and "duration_s: 4.5" in c.value and "codec: avc1" in c.value
               for c in at.caption), [c.value for c in at.caption]


def test_an_erasure_rebuild_keeps_the_other_rows_media(workbench):
    from core.privacy.packages import rebuild_without
    from core.store.models import DataPackage

    principal = auth.demo_principal("supplier")
    dataset = f"media-erase-{uuid.uuid4().hex[:8]}"
    for name in ("plain.jpg", "tone.wav"):
        upload(principal, dataset, name, GOOD_FILES[name])
    refine_dataset(principal, dataset)
    built = build_package(principal, PackageRequest(dataset=dataset, title=f"Media {dataset}", license="CC-BY-4.0"))
    with session_scope() as session:
        package = session.get(DataPackage, built["package_id"]).model_dump()
    root = Path(built["path"])
    rows = [json.loads(line) for line in (root / "data/data.jsonl").read_text().splitlines()]
    erased = next(i for i, row in enumerate(rows) if row["filename"] == "tone.wav")
    kept = rows[1 - erased]

    outcome = rebuild_without(package, [erased], erasure_id=int(uuid.uuid4().int % 10_000))

    assert outcome["action"] == "rebuilt" and outcome["rows_left"] == 1
    assert sorted(p.relative_to(root).as_posix() for p in (root / "media").iterdir()) == [kept["media_path"]]
    assert (root / kept["media_path"]).read_bytes() == GOOD_FILES["plain.jpg"]
    manifest = json.loads((root / MANIFEST_NAME).read_text())["files"]
    assert manifest[kept["media_path"]]["sha256"] == sha256(GOOD_FILES["plain.jpg"])
