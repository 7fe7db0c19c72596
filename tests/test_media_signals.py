"""Media signals on crafted files: image and audio signals, problems, duplicates, rule scoping, upload."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import numpy as np
import pandas as pd
import pytest
import soundfile
from media_fixtures import personal_exif
from PIL import ExifTags, Image, ImageFilter
from sqlmodel import select

from core import auth
from core.refine.pipeline import compute_signals
from core.refine.recipe import default_recipe
from core.refine.rules import apply_recipe
from core.refine.signals.base import SignalParams
from core.refine.signals.media import media_row, media_signals
from core.refine.signals.media_image import image_signals, personal_exif_fields, strip_personal_exif

RATE = 16_000
FAMILIES_FOR_UPLOADS = ("quality", "media", "duplicates", "pii")  # what the uploads recipe reads (fast)


def _photo(size=(640, 480), seed=0, brightness=1.0) -> Image.Image:
    """A textured picture: smooth gradients plus sharp-edged blocks (a blurred copy loses the edges)."""
    rng = np.random.default_rng(seed)
    height, width = size[1], size[0]
    y, x = np.mgrid[0:height, 0:width]
    base = 90 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0)
    for _ in range(40):
        x0, y0 = rng.integers(0, width - 60), rng.integers(0, height - 60)
        base[y0 : y0 + rng.integers(10, 60), x0 : x0 + rng.integers(10, 60)] = rng.integers(0, 255)
    rgb = np.stack([base, base * 0.9, base * 0.8], axis=-1) * brightness
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _tone(seconds=1.0, amplitude=0.3, freq=440.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_image_dimensions_format_and_sharp_versus_blurred():
    photo = _photo()
    sharp = image_signals(_encode(photo, "PNG"))
    blurred = image_signals(_encode(photo.filter(ImageFilter.GaussianBlur(6)), "PNG"))
    assert (sharp["image_format"], sharp["image_width"], sharp["image_height"]) == ("PNG", 640, 480)
    assert sharp["image_megapixels"] == pytest.approx(0.3072)
    assert sharp["image_aspect"] == pytest.approx(640 / 480, abs=1e-4)
    assert sharp["image_blur"] > 10 * blurred["image_blur"]
    assert blurred["image_blur"] < 20 <= sharp["image_blur"]  # the uploads recipe's min_image_blur


def test_dark_image_has_low_brightness_and_many_crushed_pixels():
    normal = image_signals(_encode(_photo(), "JPEG", quality=90))
    dark = image_signals(_encode(_photo(brightness=0.03), "JPEG", quality=90))
    assert normal["image_brightness"] > 0.25
    assert dark["image_brightness"] < 0.05
    assert dark["image_clipped_share"] > 0.5 > normal["image_clipped_share"]


def test_truncated_jpeg_and_garbage_get_clear_reasons():
    jpeg = _encode(_photo(), "JPEG", quality=90)
    truncated = media_row("image", jpeg[: len(jpeg) // 2])
    assert truncated["media_problem"] == "truncated"
    assert "truncated" in truncated["media_problem_detail"]
    assert truncated.get("image_blur") is None
    assert media_row("image", b"not an image at all")["media_problem"] == "corrupt"
    assert media_row("image", b"")["media_problem"] == "empty"


def test_huge_dimensions_are_refused_from_the_header_alone():
    # Only a header: a PNG claiming 12000x10000 (120 MP) or 20000x20000 pixels; decoding would take GBs.
    for width, height in ((12_000, 10_000), (20_000, 20_000)):
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        idat = struct.pack(">I", 0) + b"IDAT" + struct.pack(">I", zlib.crc32(b"IDAT"))
        row = media_row("image", b"\x89PNG\r\n\x1a\n" + chunk + idat)
        assert row["media_problem"] == "too_large"
        assert str(width * height) in row["media_problem_detail"] or "120 MP, over the 89 MP limit" in row[
            "media_problem_detail"]


def _with_gps_and_serial(fmt: str) -> bytes:
    return _encode(_photo(size=(200, 150)), fmt, exif=personal_exif())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_gps_and_camera_serial_are_personal_and_stripped(fmt):
    data = _with_gps_and_serial(fmt)
    assert image_signals(data)["image_personal_exif"] == "camera_serial,gps"
    stripped = strip_personal_exif(data)
    image = Image.open(io.BytesIO(stripped))
    assert personal_exif_fields(image) == []
    assert image.getexif()[ExifTags.Base.Make] == "TestCam"  # harmless EXIF stays
    assert image.size == (200, 150)
    plain = _encode(_photo(size=(200, 150)), "PNG")
    assert strip_personal_exif(plain) == plain


def test_audio_signals_clipped_silent_and_loudness():
    normal = media_row("audio", _wav(_tone(amplitude=0.3)))
    clipped = media_row("audio", _wav(np.clip(_tone(amplitude=3.0), -1, 1)))
    silent = media_row("audio", _wav(np.zeros(RATE * 2, dtype=np.float32)))
    assert normal["media_problem"] == ""
    assert (normal["audio_sample_rate"], normal["audio_channels"], normal["audio_format"]) == (RATE, 1, "WAV")
    assert normal["audio_duration_s"] == pytest.approx(1.0)
    assert normal["audio_loudness_dbfs"] == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.1)
    assert normal["audio_clipped_share"] == 0 and normal["audio_silence_ratio"] == 0
    assert clipped["audio_clipped_share"] > 0.5
    assert silent["audio_silence_ratio"] == 1.0 and silent["audio_loudness_dbfs"] == -120.0
    stereo = media_row("audio", _wav(np.stack([_tone(), _tone(freq=220)], axis=1)))
    assert stereo["audio_channels"] == 2


def test_half_silent_audio_and_broken_audio():
    half = media_row("audio", _wav(np.concatenate([_tone(), np.zeros(RATE, dtype=np.float32)])))
    assert half["audio_silence_ratio"] == pytest.approx(0.5, abs=0.03)
    assert media_row("audio", _wav(np.zeros(0, dtype=np.float32)))["media_problem"] == "empty"
    assert media_row("audio", b"RIFF\x00\x00junk")["media_problem"] == "unsupported"


def test_audio_content_hash_ignores_the_container():
    tone = (_tone() * 32767).astype(np.int16)  # integers: both encoders store exactly these samples
    wav, flac = io.BytesIO(), io.BytesIO()
    soundfile.write(wav, tone, RATE, format="WAV", subtype="PCM_16")
    soundfile.write(flac, tone, RATE, format="FLAC", subtype="PCM_16")
    as_wav, as_flac = media_row("audio", wav.getvalue()), media_row("audio", flac.getvalue())
    assert as_wav["audio_content_hash"] == as_flac["audio_content_hash"]
    assert as_wav["audio_content_hash"] != media_row("audio", _wav(_tone(freq=300)))["audio_content_hash"]


def _mixed_items() -> tuple[pd.DataFrame, dict[str, bytes]]:
    """Text and media items; media bytes come from a dict keyed by the item's fake file id."""
    photo = _photo(seed=3)
    files = {
        "sharp": _encode(photo, "PNG"),
        "resized": _encode(photo.resize((480, 360)), "JPEG", quality=85),  # a near-duplicate of "sharp"
        "other": _encode(_photo(seed=9), "PNG"),
        "blurred": _encode(_photo(seed=5).filter(ImageFilter.GaussianBlur(6)), "PNG"),
        "dark": _encode(_photo(seed=7, brightness=0.03), "PNG"),
        "truncated": _encode(_photo(seed=8), "JPEG")[:2000],
        "gps": _with_gps_and_serial("PNG"),
        "tone": _wav(_tone()),
        "tone_copy": _wav(_tone()),
        "clipped": _wav(np.clip(_tone(amplitude=3.0), -1, 1)),
        "silent": _wav(np.zeros(RATE, dtype=np.float32)),
    }
    text = ("Uploaded field notes describe the river survey in detail, with water levels measured "
            "every morning and the method written down so that others can repeat the work.")
    rows = [{"id": "t-good", "text": text, "data_type": "text"}, {"id": "t-empty", "text": "", "data_type": "text"}]
    for key in files:
        kind = "audio" if key in ("tone", "tone_copy", "clipped", "silent") else "image"
        rows.append({"id": f"m-{key}", "text": "", "title": f"{key}.bin", "data_type": kind,
                     "fields": {"gridfs_id": key}})
    return pd.DataFrame(rows), files


def test_media_family_leaves_text_items_empty():
    items, files = _mixed_items()
    signals = media_signals(items, load=lambda fields: files[fields["gridfs_id"]])
    assert signals.loc[0].isna().all() and signals.loc[1].isna().all()
    assert signals.loc[items["id"].eq("m-truncated").to_numpy(), "media_problem"].item() in ("truncated", "corrupt")


def test_uploads_recipe_judges_media_by_media_rules_and_text_by_text_rules(monkeypatch):
    items, files = _mixed_items()
    monkeypatch.setattr("core.refine.signals.media.raw_store_bytes", lambda fields: files[fields["gridfs_id"]])
    signals = compute_signals(items, SignalParams(topics=False, families=FAMILIES_FOR_UPLOADS))
    decisions = apply_recipe(signals, default_recipe("uploads")).set_index("id")
    reasons = decisions["drop_reason"].to_dict()
    assert reasons["t-good"] == "" and reasons["t-empty"] == "min_length<1"  # text rules unchanged
    assert reasons["m-sharp"] == "" and reasons["m-other"] == "" and reasons["m-tone"] == ""
    # Perceptual hash: the same picture, smaller and re-encoded; the larger original survives although
    # "m-resized" sorts first by id.
    assert reasons["m-resized"] == "duplicate"
    assert reasons["m-tone_copy"] == "duplicate"  # decoded-content hash
    assert reasons["m-blurred"] == "min_image_blur<20"
    assert reasons["m-dark"] == "min_image_brightness<0.05"
    assert reasons["m-truncated"] in ("media_problem=truncated", "media_problem=corrupt")
    assert reasons["m-gps"] == ""  # redact policy keeps it; a drop policy drops it (below)
    assert reasons["m-clipped"] == "max_audio_clipped_share>0.01"
    assert reasons["m-silent"] == "max_audio_silence_ratio>0.95"
    assert not any(r.startswith(("min_length", "language", "min_quality")) for k, r in reasons.items()
                   if k.startswith("m-"))
    dropping = default_recipe("uploads")
    from dataclasses import replace

    dropping = replace(dropping, rules=tuple(r.model_copy(update={"policy": "drop"}) if r.kind == "pii" else r
                                             for r in dropping.rules))
    assert apply_recipe(signals, dropping).set_index("id").loc["m-gps", "drop_reason"] == "pii_found"


def test_uploaded_image_is_judged_as_an_image_end_to_end(workbench):
    from core.sources.ingest import ingest_upload
    from core.store.models import Dataset, Item
    from core.store.sql import session_scope

    dataset = f"media-{uuid.uuid4().hex[:8]}"
    ingest_upload(auth.demo_principal("supplier"), "photo.png", _encode(_photo(seed=11), "PNG"), app="uploads",
                  dataset=dataset, license="CC-BY-4.0", origin="university", attested=True)
    with session_scope() as session:
        dataset_id = session.exec(select(Dataset.id).where(Dataset.name == dataset)).one()
        item = session.exec(select(Item).where(Item.dataset_id == dataset_id)).one()
        row = {"id": str(item.id), "text": item.text, "title": item.title, "data_type": item.data_type,
               "fields": item.fields}
    signals = compute_signals(pd.DataFrame([row]), SignalParams(topics=False, families=FAMILIES_FOR_UPLOADS))
    assert signals.loc[0, "image_width"] == 640 and signals.loc[0, "media_problem"] == ""
    assert apply_recipe(signals, default_recipe("uploads")).loc[0, "drop_reason"] == ""


def test_unreadable_video_is_refused_and_type_limits_apply(workbench, monkeypatch):
    from core.config import get_settings
    from core.sources.ingest import ingest_upload
    from core.sources.upload_formats import UploadError

    def upload(name, data):
        return ingest_upload(auth.demo_principal("supplier"), name, data, app="uploads",
                             dataset=f"media-{uuid.uuid4().hex[:8]}", license="CC-BY-4.0", origin="university",
                             attested=True)

    with pytest.raises(UploadError, match="container header is intact"):  # a header cut short
        upload("clip.mp4", b"\x00\x00\x00\x18ftypmp42")
    monkeypatch.setattr(get_settings(), "upload_max_image_mb", 1)
    big = np.random.default_rng(0).integers(0, 255, (800, 800, 3), dtype=np.uint8)  # noise: ~1.9 MB as PNG
    with pytest.raises(UploadError, match="image files are limited to 1 MB"):
        upload("big.png", _encode(Image.fromarray(big), "PNG"))
    monkeypatch.setattr(get_settings(), "upload_max_audio_mb", 1)
    with pytest.raises(UploadError, match="audio files are limited to 1 MB"):
        upload("long.wav", _wav(_tone(seconds=40)))  # 1.28 MB of 16-bit samples
    monkeypatch.setattr(get_settings(), "upload_max_text_mb", 1)
    with pytest.raises(UploadError, match="text and table uploads are limited to 1 MB"):
        upload("notes.txt", b"word " * 300_000)
    assert upload("small.wav", _wav(_tone())).binaries_stored == 1


def test_raw_explorer_preview_of_uploaded_media(workbench):
    from core import explore
    from core.sources.ingest import ingest_upload
    from core.store.raw import get_raw_store

    principal = auth.demo_principal("supplier")
    previews = {}
    for name, data in (("pic.png", _with_gps_and_serial("PNG")), ("voice.wav", _wav(_tone()))):
        dataset = f"media-{uuid.uuid4().hex[:8]}"
        ingest_upload(principal, name, data, app="uploads", dataset=dataset, license="CC-BY-4.0",
                      origin="university", attested=True)
        doc = get_raw_store().find("uploads", {"source_id": f"upload:{dataset}"}, limit=1)[0]
        previews[name] = explore.record_media(principal, "uploads", str(doc["_id"]))
    thumbnail = Image.open(io.BytesIO(previews["pic.png"]["data"]))
    assert thumbnail.format == "PNG" and max(thumbnail.size) <= 320
    assert personal_exif_fields(thumbnail) == []  # previews never show where a photo was taken
    assert previews["voice.wav"]["kind"] == "audio" and previews["voice.wav"]["data"][:4] == b"RIFF"
    with pytest.raises(auth.PermissionDenied):
        explore.record_media(auth.demo_principal("buyer"), "uploads", str(doc["_id"]))


def test_media_signals_in_worker_processes_read_the_raw_store(workbench):
    from core.refine.executor import ProcessPoolExecutor
    from core.sources.ingest import ingest_upload
    from core.store.models import Dataset, Item
    from core.store.sql import session_scope

    dataset = f"media-{uuid.uuid4().hex[:8]}"
    ingest_upload(auth.demo_principal("supplier"), "clip.wav", _wav(_tone(seconds=2)), app="uploads",
                  dataset=dataset, license="CC-BY-4.0", origin="university", attested=True)
    with session_scope() as session:
        dataset_id = session.exec(select(Dataset.id).where(Dataset.name == dataset)).one()
        item = session.exec(select(Item).where(Item.dataset_id == dataset_id)).one()
        row = {"id": str(item.id), "data_type": item.data_type, "fields": item.fields}
    with ProcessPoolExecutor(workers=2) as executor:
        signals = compute_signals(pd.DataFrame([row]), SignalParams(topics=False, families=("media",)), executor)
    assert signals.loc[0, "audio_duration_s"] == pytest.approx(2.0) and signals.loc[0, "signal_errors"] == ""
