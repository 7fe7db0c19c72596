"""Signals of one image file: what it is, whether it decodes, how sharp and well exposed it is, its
perceptual hash for near-duplicates, and EXIF fields that identify a person (GPS, camera serials).

Only the header is read before the size check, so a decompression bomb is refused without decoding it.
"""

from __future__ import annotations

import io
import warnings

import imagehash
import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

# Pillow's own decompression-bomb bound (~89 MP): larger headers are refused before any pixel is decoded.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
ANALYSIS_SIDE = 512  # blur and exposure are measured on a grey copy at most this wide/high
CLIP_LOW, CLIP_HIGH = 3, 252  # grey levels counted as crushed black / blown white
# EXIF tags that name a device (and so, through purchase records, a person).
SERIAL_TAGS = {
    ExifTags.Base.BodySerialNumber: "camera_serial",
    ExifTags.Base.LensSerialNumber: "lens_serial",
    ExifTags.Base.CameraSerialNumber: "camera_serial",
}

IMAGE_COLUMNS = (
    "image_format",
    "image_width",
    "image_height",
    "image_megapixels",
    "image_aspect",
    "image_blur",
    "image_brightness",
    "image_clipped_share",
    "image_phash",
    "image_personal_exif",
)


class MediaProblem(ValueError):
    """A file that cannot be judged; `kind` is the short drop reason, the message says why."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _open(data: bytes) -> Image.Image:
    """Image.open without Pillow's bomb warning: sizes over MAX_PIXELS are refused by the callers instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def image_signals(data: bytes) -> dict:
    """IMAGE_COLUMNS for one image; raises MediaProblem (empty, corrupt, truncated, too_large)."""
    if not data:
        raise MediaProblem("empty", "the image file is empty (0 bytes)")
    try:
        image = _open(data)
    except Image.DecompressionBombError as exc:  # Pillow's own header check (over twice MAX_PIXELS)
        raise MediaProblem("too_large", str(exc)) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise MediaProblem("corrupt", f"not a readable image: {exc}") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise MediaProblem("corrupt", f"the image header says {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise MediaProblem(
            "too_large", f"{width}x{height} is {width * height / 1e6:.0f} MP, over the {MAX_PIXELS / 1e6:.0f} MP limit"
        )
    image_format = image.format or ""
    personal = personal_exif_fields(image)
    try:
        image.draft("L", (ANALYSIS_SIDE, ANALYSIS_SIDE))  # JPEG: decode at reduced scale (much faster)
        image.load()
    except OSError as exc:  # Pillow says "image file is truncated" for a cut-off file
        kind = "truncated" if "truncat" in str(exc).lower() else "corrupt"
        raise MediaProblem(kind, f"the image does not decode: {exc}") from None
    except (ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MediaProblem("corrupt", f"the image does not decode: {exc}") from None
    grey = image.convert("L")
    grey.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
    pixels = np.asarray(grey, dtype=np.float32)
    return {
        "image_format": image_format,
        "image_width": width,
        "image_height": height,
        "image_megapixels": round(width * height / 1e6, 4),
        "image_aspect": round(width / height, 4),
        "image_blur": laplacian_variance(pixels),
        "image_brightness": float(pixels.mean() / 255.0),
        "image_clipped_share": float(((pixels <= CLIP_LOW) | (pixels >= CLIP_HIGH)).mean()),
        "image_phash": str(imagehash.phash(grey)),
        "image_personal_exif": ",".join(personal),
    }


def laplacian_variance(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: low for blurred images (few sharp edges), high for sharp ones."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    laplacian = (
        grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * grey[1:-1, 1:-1]
    )
    return float(laplacian.var())


def personal_exif_fields(image: Image.Image) -> list[str]:
    """Sorted names of the identifying EXIF fields present: "gps", "camera_serial", "lens_serial"."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF is not personal data; the pixels are judged on
        return []
    found = set()
    if exif.get_ifd(ExifTags.IFD.GPSInfo):
        found.add("gps")
    camera = exif.get_ifd(ExifTags.IFD.Exif)
    for tag, name in SERIAL_TAGS.items():
        if str(exif.get(tag) or camera.get(tag) or "").strip():
            found.add(name)
    return sorted(found)


def strip_personal_exif(data: bytes) -> bytes:
    """The image without GPS and serial-number EXIF fields (the bytes unchanged when there are none).

    JPEGs are re-saved with their own quantization tables (quality="keep"), so the pixels barely change."""
    image = Image.open(io.BytesIO(data))
    if not personal_exif_fields(image):
        return data
    exif = image.getexif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).clear()
    exif.pop(ExifTags.IFD.GPSInfo, None)
    camera = exif.get_ifd(ExifTags.IFD.Exif)
    for tag in SERIAL_TAGS:
        exif.pop(tag, None)
        camera.pop(tag, None)
    out = io.BytesIO()
    options = {"quality": "keep"} if image.format == "JPEG" else {}
    image.save(out, format=image.format, exif=exif, **options)
    return out.getvalue()


def thumbnail_png(data: bytes, side: int = 320) -> bytes:
    """A PNG at most `side` pixels wide and high, without any EXIF (for previews); MediaProblem if unreadable."""
    try:
        image = _open(data)
        if image.size[0] * image.size[1] > MAX_PIXELS:
            raise MediaProblem("too_large", f"{image.size[0]}x{image.size[1]} is too large to preview")
        image.draft("RGB", (side, side))
        image.thumbnail((side, side))
        out = io.BytesIO()
        image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, format="PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaProblem("corrupt", f"the image does not decode: {exc}") from None
    return out.getvalue()


def hamming_pairs(hashes: list[str], max_bits: int) -> np.ndarray:
    """(i, j) index pairs, i < j, of 64-bit hex hashes at most `max_bits` apart (row blocks bound memory)."""
    values = np.array([int(h, 16) for h in hashes], dtype=np.uint64)
    pairs = [np.empty((0, 2), dtype=np.int64)]
    block = 2048
    for start in range(0, len(values), block):
        rows = values[start : start + block]
        distance = np.bitwise_count(rows[:, None] ^ values[None, :])
        i, j = np.nonzero(distance <= max_bits)
        i = i + start
        keep = i < j
        pairs.append(np.column_stack([i[keep], j[keep]]).astype(np.int64))
    return np.concatenate(pairs)
