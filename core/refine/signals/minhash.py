"""MinHash signatures computed in bulk with numpy, and the LSH banding pass over them.

Feeding datasketch one shingle at a time costs ~7.7 ms per 3 KB document. Here every token of a batch is
hashed once (xxh3 through ``map``, a C-level loop), word shingles are combined from token hashes with array
arithmetic, and all permutations are applied as one broadcast multiply-add-shift followed by a per-document
minimum (``np.minimum.reduceat``). No Python code runs per shingle or per permutation.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence

import numpy as np
import xxhash

from core.refine.signals.separators import SeparatorTable

# Signatures are uint32: 32-bit minima keep the Jaccard estimate exact enough (collisions ~2^-32) at half
# the memory of uint64, which matters for the one cross-batch LSH pass over every document.
SIGNATURE_DTYPE = np.uint32
# Row value of a document with no tokens. Such rows never enter LSH: empty texts are not near-duplicates
# of each other (identical empties are already caught by the exact hash).
EMPTY_SIGNATURE_VALUE = np.iinfo(SIGNATURE_DTYPE).max

# Tokenizing is the costliest Python step, so it is done with C-level str/bytes methods and numpy instead of a
# Unicode regex (3x slower): non-ASCII punctuation and spaces become " ", characters of scripts written without
# spaces between words become tokens of their own (shingles turn into character n-grams there), ASCII
# punctuation is dropped by a 256-byte table, and bytes.split() cuts the tokens. The Basic Multilingual Plane
# covers the scripts and punctuation that matter here and keeps the table small.
_UNSPACED_SCRIPT_RANGES = ((0x0E00, 0x0E7F), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                           (0xF900, 0xFAFF))
_UNICODE_SEPARATORS = SeparatorTable(
    spaces=(code for code in range(128, 0x10000) if unicodedata.category(chr(code))[0] in "PZ"),
    isolated=(code for low, high in _UNSPACED_SCRIPT_RANGES for code in range(low, high + 1)),
)
_ASCII_PUNCTUATION_TO_SPACE = bytes(32 if chr(code) in string.punctuation else code for code in range(256))
# Bounds the (num_perm x rows) uint64 scratch matrix to 4 MB (fits in cache) whatever the document size.
_MAX_MATRIX_ELEMENTS = 1 << 19
_UINT64 = np.uint64


def tokenize(text: str) -> list[bytes]:
    """Casefolded UTF-8 word tokens (single characters for unspaced scripts); punctuation is dropped."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _UNICODE_SEPARATORS.apply(folded)
    return folded.encode("utf-8", "surrogatepass").translate(_ASCII_PUNCTUATION_TO_SPACE).split()


def _mix64(values: np.ndarray) -> np.ndarray:
    """Bijective avalanche step (MurmurHash3 fmix64): shingle sums become uniformly spread hashes."""
    values = values ^ (values >> _UINT64(33))
    values *= _UINT64(0xFF51AFD7ED558CCD)
    values ^= values >> _UINT64(33)
    values *= _UINT64(0xC4CEB9FE1A85EC53)
    values ^= values >> _UINT64(33)
    return values


def _shingle_hashes(token_lists: Sequence[list[bytes]], shingle_size: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the distinct word shingles of every token list, with the owning document of each.

    Each document's token hashes are followed by ``shingle_size - 1`` padding tokens so a shingle can be
    computed at every position of the flat array at once; only starts inside the document are kept, and a
    document shorter than one shingle contributes a single (padded) shingle.
    """
    padding = [b""] * (shingle_size - 1)
    flat_tokens: list[bytes] = []
    token_counts = np.zeros(len(token_lists), dtype=np.int64)
    for position, tokens in enumerate(token_lists):
        token_counts[position] = len(tokens)
        flat_tokens.extend(tokens)
        flat_tokens.extend(padding)
    if not token_counts.any():
        return np.empty(0, dtype=_UINT64), np.empty(0, dtype=np.int64)
    token_hashes = np.fromiter(map(xxhash.xxh3_64_intdigest, flat_tokens), dtype=_UINT64,
                               count=len(flat_tokens))
    multipliers = _stable_constants("shingle", shingle_size) | _UINT64(1)
    positions = len(flat_tokens) - shingle_size + 1
    combined = np.zeros(max(positions, 0), dtype=_UINT64)
    for offset in range(shingle_size):
        combined += token_hashes[offset:offset + positions] * multipliers[offset]
    shingles = _mix64(combined) >> _UINT64(32)

    doc_starts = np.concatenate(([0], np.cumsum(token_counts + shingle_size - 1)[:-1]))
    shingles_per_doc = np.where(token_counts > 0, np.maximum(token_counts - shingle_size + 1, 1), 0)
    owner = np.repeat(np.arange(len(token_lists), dtype=_UINT64), shingles_per_doc)
    within_doc = np.arange(owner.size) - np.repeat(np.cumsum(shingles_per_doc) - shingles_per_doc,
                                                   shingles_per_doc)
    picked = shingles[np.repeat(doc_starts, shingles_per_doc) + within_doc]
    # One sort deduplicates shingles per document and groups rows by document for reduceat (np.unique's
    # hash-based path is several times slower than this sort on uint64 here).
    keys = np.sort((owner << _UINT64(32)) | picked)
    first_of_run = np.ones(keys.size, dtype=bool)
    first_of_run[1:] = keys[1:] != keys[:-1]
    keys = keys[first_of_run]
    return keys & _UINT64(0xFFFFFFFF), (keys >> _UINT64(32)).astype(np.int64)


def _stable_constants(label: str, count: int, seed: int = 0) -> np.ndarray:
    """Pseudo-random uint64 constants derived with xxh3, not numpy's RNG, whose streams may change between
    numpy versions: cached signatures must stay comparable with ones computed after an upgrade."""
    return np.array([xxhash.xxh3_64_intdigest(f"{label}:{seed}:{index}".encode()) for index in range(count)],
                    dtype=_UINT64)


def minhash_signatures(texts: Sequence[str], num_perm: int = 128, shingle_size: int = 5,
                       seed: int = 1) -> np.ndarray:
    """MinHash signature per text, shape ``(len(texts), num_perm)``, dtype uint32 (see signatures_of_tokens)."""
    return signatures_of_tokens([tokenize(text if isinstance(text, str) else "") for text in texts],
                                num_perm=num_perm, shingle_size=shingle_size, seed=seed)


def signatures_of_tokens(token_lists: Sequence[list[bytes]], num_perm: int = 128, shingle_size: int = 5,
                         seed: int = 1) -> np.ndarray:
    """MinHash signature per list of ``tokenize`` tokens, shape ``(len(token_lists), num_perm)``, dtype uint32.

    Permutation ``i`` maps a 32-bit shingle hash ``x`` to ``(a_i * x + b_i) mod 2**64 >> 32`` - the
    multiply-add-shift universal family, which needs no division (unlike ``mod p``) and stays exact in
    uint64 arithmetic. Same tokens, ``num_perm``, ``shingle_size`` and ``seed`` give the same signatures in any
    process, so batches computed on different workers can be compared.
    """
    if num_perm < 1:
        raise ValueError(f"num_perm must be >= 1, got {num_perm}")
    if shingle_size < 1:
        raise ValueError(f"shingle_size must be >= 1, got {shingle_size}")
    signatures = np.full((len(token_lists), num_perm), EMPTY_SIGNATURE_VALUE, dtype=SIGNATURE_DTYPE)
    if not token_lists:
        return signatures
    shingles, owners = _shingle_hashes(token_lists, shingle_size)
    multipliers = _stable_constants("multiplier", num_perm, seed) | _UINT64(1)
    increments = _stable_constants("increment", num_perm, seed)
    rows_per_chunk = max(1, _MAX_MATRIX_ELEMENTS // num_perm)
    scratch = np.empty((num_perm, min(rows_per_chunk, shingles.size)), dtype=_UINT64)
    for low in range(0, shingles.size, rows_per_chunk):
        chunk = shingles[low:low + rows_per_chunk]
        chunk_owners = owners[low:low + rows_per_chunk]
        # Permutations on the first axis: reduceat then runs along contiguous memory (4x faster). The shift
        # is taken after the minimum, on num_perm values per document instead of per shingle: shifting right
        # never changes which value is smallest.
        permuted = np.multiply(multipliers[:, None], chunk[None, :], out=scratch[:, :chunk.size])
        permuted += increments[:, None]
        segment_starts = np.flatnonzero(np.diff(chunk_owners, prepend=-1))
        minima = np.minimum.reduceat(permuted, segment_starts, axis=1)
        minima >>= _UINT64(32)
        minima = minima.T.astype(SIGNATURE_DTYPE)
        # A document can straddle two chunks: merge with what earlier chunks found for it.
        docs = chunk_owners[segment_starts]
        signatures[docs] = np.minimum(signatures[docs], minima)
    return signatures


def empty_signature_rows(signatures: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that came from texts without any token."""
    return np.all(signatures == EMPTY_SIGNATURE_VALUE, axis=1)


def lsh_parameters(threshold: float, num_perm: int, false_positive_weight: float = 0.3,
                   false_negative_weight: float = 0.7) -> tuple[int, int]:
    """(bands, rows) minimising the weighted areas of false positives and false negatives under the S-curve.

    Same objective as datasketch's ``_optimal_param``, integrated on a grid with numpy. Recall is weighted
    higher because every candidate pair is verified afterwards: a false positive costs one comparison, a false
    negative is a lost duplicate.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    below = np.linspace(0.0, threshold, 201)
    above = np.linspace(threshold, 1.0, 201)
    best, best_error = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = np.trapezoid(1 - (1 - below**rows) ** bands, below)
            false_negative = np.trapezoid((1 - above**rows) ** bands, above)
            error = false_positive_weight * false_positive + false_negative_weight * false_negative
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def lsh_candidate_pairs(signatures: np.ndarray, bands: int, rows: int,
                        max_bucket_neighbours: int = 16) -> np.ndarray:
    """Distinct index pairs ``(i, j)``, ``i < j``, that share at least one LSH band; shape (m, 2), int64.

    Inside a bucket (members in index order) each is paired with the next ``max_bucket_neighbours`` ones,
    not with all of them: a bucket of 10,000 copies would otherwise produce 50 million pairs, while these
    links already connect the whole bucket once clustered transitively.
    """
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows needs {bands * rows} permutations, "
                         f"signatures have {signatures.shape[1]}")
    usable = np.flatnonzero(~empty_signature_rows(signatures))
    if usable.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    band_mixers = _stable_constants("band", rows) | _UINT64(1)
    found = []
    for band in range(bands):
        band_values = signatures[usable, band * rows:(band + 1) * rows].astype(_UINT64)
        keys = _mix64((band_values * band_mixers).sum(axis=1, dtype=_UINT64))
        order = np.argsort(keys, kind="stable")
        sorted_keys, members = keys[order], usable[order]
        for distance in range(1, max_bucket_neighbours + 1):
            same_bucket = sorted_keys[distance:] == sorted_keys[:-distance]
            if not same_bucket.any():
                break
            found.append(np.stack([members[:-distance][same_bucket], members[distance:][same_bucket]],
                                  axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    # Pairs found by several bands: dedupe on one int64 code per pair (np.unique(axis=0) is ~20x slower).
    codes = np.minimum(pairs[:, 0], pairs[:, 1]) * signatures.shape[0] + np.maximum(pairs[:, 0], pairs[:, 1])
    codes.sort()
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return np.stack(np.divmod(codes, signatures.shape[0]), axis=1)


def estimated_jaccard(signatures: np.ndarray, pairs: np.ndarray, chunk_rows: int = 65536) -> np.ndarray:
    """Share of equal signature positions for each pair: the MinHash estimate of their Jaccard similarity."""
    estimates = np.empty(len(pairs), dtype=np.float64)
    for low in range(0, len(pairs), chunk_rows):
        chunk = pairs[low:low + chunk_rows]
        estimates[low:low + chunk_rows] = (signatures[chunk[:, 0]] == signatures[chunk[:, 1]]).mean(axis=1)
    return estimates
