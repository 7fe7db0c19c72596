"""Turning chosen characters into spaces, over whole strings, fast even when the text is not pure ASCII.

The tokenizers here split on whitespace after mapping punctuation (and, for scripts written without spaces,
setting each character apart) to spaces. `str.translate` does that at ~1 ns a character while its input is
ASCII, but one accented letter sends it to a dict lookup per character (~40 ns a character on the 3 KB
documents of bench/bench_refine_throughput.py), which made it the largest single cost of the signals on
non-English text. `SeparatorTable.apply` keeps `str.translate` for ASCII input and otherwise maps the code
points through a lookup table with numpy (~3-5 ns a character).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Code points past the Basic Multilingual Plane (emoji, rare CJK) are never separators here: every
# character the tokenizers treat specially is inside it, and the table stays 64 KB.
_TABLE_SIZE = 0x10000
_KEEP, _SPACE, _ISOLATE = 0, 1, 2
# Longer texts are mapped in slices of this many characters, so the numpy arrays stay in cache.
_SLICE_CHARS = 1 << 16
_SPACE_CODE = np.uint32(ord(" "))
_DROPPED = np.uint32(0xFFFFFFFF)  # above the largest code point, so it can only be a placeholder


class SeparatorTable:
    """Characters that become a space, and characters that become a token of their own (" c ")."""

    def __init__(self, spaces: Iterable[str | int], isolated: Iterable[str | int] = ()):
        self._kind = np.full(_TABLE_SIZE, _KEEP, dtype=np.uint8)
        ascii_table: dict[int, str] = {}
        for character in spaces:
            code = _code_point(character)
            self._kind[code] = _SPACE
            if code < 128:
                ascii_table[code] = " "
        # Isolation wins where a character is in both lists (a Katakana middle dot is punctuation too).
        for character in isolated:
            code = _code_point(character)
            self._kind[code] = _ISOLATE
            if code < 128:
                ascii_table[code] = f" {chr(code)} "
        self._ascii_table = str.maketrans(ascii_table)

    def apply(self, text: str) -> str:
        """`text` with every space character replaced by " " and every isolated one by " c "."""
        if text.isascii():
            return text.translate(self._ascii_table)
        if len(text) <= _SLICE_CHARS:
            return self._apply_numpy(text)
        return "".join(self._apply_numpy(text[start : start + _SLICE_CHARS])
                       for start in range(0, len(text), _SLICE_CHARS))

    def _apply_numpy(self, text: str) -> str:
        # "surrogatepass" keeps lone surrogates (broken scrapes have them) as they are instead of failing.
        code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kind = self._kind[np.minimum(code_points, _TABLE_SIZE - 1)]
        kind[code_points >= _TABLE_SIZE] = _KEEP
        if not kind.any():
            return text
        mapped = np.where(kind == _SPACE, _SPACE_CODE, code_points)
        isolated = kind == _ISOLATE
        if isolated.any():
            # Three slots per character - space, character, space - with the spaces kept only around
            # isolated characters.
            spread = np.full((mapped.size, 3), _DROPPED, dtype=np.uint32)
            spread[:, 1] = mapped
            spread[isolated, 0] = _SPACE_CODE
            spread[isolated, 2] = _SPACE_CODE
            mapped = spread.ravel()
            mapped = mapped[mapped != _DROPPED]
        return mapped.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def _code_point(character: str | int) -> int:
    code = character if isinstance(character, int) else ord(character)
    if not 0 <= code < _TABLE_SIZE:
        raise ValueError(f"separator U+{code:04X} is outside the Basic Multilingual Plane")
    return code
