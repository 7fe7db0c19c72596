"""Crafted media shared by the media tests."""

from __future__ import annotations

from PIL import ExifTags, Image


def personal_exif() -> bytes:
    """EXIF with what counts as personal data in a photo (GPS position, camera serial) and a harmless Make."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SN-12345"
    return exif.tobytes()
