"""Signals of one audio file, decoded with soundfile (its wheel bundles libsndfile: WAV, FLAC, OGG, MP3).

The file is decoded block by block, so a long recording never sits in memory as one float array.
The content hash is over the decoded integer samples, so the same recording saved twice (another
container header, other metadata tags) is still recognised as one.
"""

from __future__ import annotations

import hashlib
import io
import math

import numpy as np
import soundfile

from core.refine.signals.media_image import MediaProblem

BLOCK_FRAMES = 65_536
CLIP_LEVEL = 0.999  # |sample| at or above this share of full scale is clipped
SILENCE_DBFS = -50.0  # a 50 ms frame quieter than this counts as silence
FRAME_SECONDS = 0.05
SILENT_FLOOR_DBFS = -120.0  # loudness reported for digital silence instead of -infinity

AUDIO_COLUMNS = (
    "audio_format",
    "audio_duration_s",
    "audio_sample_rate",
    "audio_channels",
    "audio_clipped_share",
    "audio_silence_ratio",
    "audio_loudness_dbfs",
    "audio_content_hash",
)


def _dbfs(mean_square: float) -> float:
    return max(SILENT_FLOOR_DBFS, 10.0 * math.log10(mean_square)) if mean_square > 0 else SILENT_FLOOR_DBFS


def audio_signals(data: bytes) -> dict:
    """AUDIO_COLUMNS for one audio file; raises MediaProblem (empty, corrupt, unsupported)."""
    if not data:
        raise MediaProblem("empty", "the audio file is empty (0 bytes)")
    try:
        sound = soundfile.SoundFile(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise MediaProblem("unsupported", f"not a readable audio file (WAV, FLAC, OGG, MP3): {exc}") from None
    with sound:
        rate, channels, audio_format = sound.samplerate, sound.channels, sound.format
        frame_length = max(1, int(rate * FRAME_SECONDS))
        digest = hashlib.sha256(f"{rate}:{channels}:".encode())
        frames = clipped = silent_frames = analysed_frames = 0
        square_sum = 0.0
        try:
            # Blocks are whole multiples of the 50 ms frame, so frames never straddle two blocks.
            block = max(frame_length, BLOCK_FRAMES // frame_length * frame_length)
            for integers in sound.blocks(blocksize=block, dtype="int32", always_2d=True):
                frames += len(integers)
                # Integer samples decode exactly from any container; floats may be scaled differently.
                digest.update(integers.astype("<i4").tobytes())
                samples = integers / 2.0**31
                clipped += int((np.abs(samples) >= CLIP_LEVEL).sum())
                mono_square = (samples.astype(np.float64) ** 2).mean(axis=1)
                square_sum += float(mono_square.sum())
                whole = len(mono_square) // frame_length * frame_length
                if whole:
                    frame_power = mono_square[:whole].reshape(-1, frame_length).mean(axis=1)
                    silent_frames += int((frame_power <= 10 ** (SILENCE_DBFS / 10)).sum())
                    analysed_frames += len(frame_power)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise MediaProblem("corrupt", f"the audio does not decode: {exc}") from None
    if frames == 0:
        raise MediaProblem("empty", "the audio file has no samples (zero length)")
    return {
        "audio_format": audio_format,
        "audio_duration_s": round(frames / rate, 4),
        "audio_sample_rate": rate,
        "audio_channels": channels,
        "audio_clipped_share": clipped / (frames * channels),
        # Shorter than one 50 ms frame: judged as one frame by its overall loudness.
        "audio_silence_ratio": (silent_frames / analysed_frames if analysed_frames
                                else float(_dbfs(square_sum / frames) <= SILENCE_DBFS)),
        "audio_loudness_dbfs": round(_dbfs(square_sum / frames), 3),
        "audio_content_hash": digest.hexdigest()[:32],
    }
