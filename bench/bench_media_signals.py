"""Throughput of the media signals: images/s and audio files/s on generated files (nothing downloaded).

    python bench/bench_media_signals.py [--images 200] [--audio 100]

Images are 1280x960 textured photos, half PNG and half JPEG; audio files are 10 s mono 16 kHz WAVs.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import soundfile
from PIL import Image

from core.refine.signals.media import media_row


def photos(count: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:960, 0:1280]
    out = []
    for i in range(count):
        base = 100 + 60 * np.sin(x / (20.0 + i % 17)) * np.cos(y / 23.0) + rng.normal(0, 8, x.shape)
        image = Image.fromarray(np.clip(np.stack([base, base * 0.9, base * 0.8], -1), 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG" if i % 2 else "JPEG", **({} if i % 2 else {"quality": 90}))
        out.append(buffer.getvalue())
    return out


def recordings(count: int, rate: int = 16_000, seconds: float = 10.0) -> list[bytes]:
    t = np.arange(int(rate * seconds)) / rate
    out = []
    for i in range(count):
        buffer = io.BytesIO()
        soundfile.write(buffer, 0.3 * np.sin(2 * np.pi * (200 + i) * t), rate, format="WAV", subtype="PCM_16")
        out.append(buffer.getvalue())
    return out


def rate_of(kind: str, files: list[bytes]) -> float:
    started = time.perf_counter()
    for data in files:
        row = media_row(kind, data)
        assert row["media_problem"] == "", row
    return len(files) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--audio", type=int, default=100)
    args = parser.parse_args()
    images, audio = photos(args.images), recordings(args.audio)
    print(f"images: {rate_of('image', images):.1f} /s  ({args.images} x 1280x960, half JPEG half PNG, "
          f"{sum(map(len, images)) / len(images) / 1e6:.2f} MB each on average)")
    audio_rate = rate_of("audio", audio)
    print(f"audio:  {audio_rate:.1f} files/s  ({args.audio} x 10 s mono 16 kHz WAV) "
          f"= {audio_rate * 10:.0f} s of audio per second")


if __name__ == "__main__":
    main()
