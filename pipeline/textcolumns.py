"""Arrow string columns read as byte matrices, so fixed-shape texts (`YYYY-MM`, ISO date-times, ASCII ids) are
checked and converted in a few numpy passes instead of one regex or strptime pass per field.

Arrow keeps a string column as one byte buffer plus offsets; a gather over those gives every text's bytes in a
row of a matrix. Only ASCII bytes ever compare equal to the digits and separators checked here, so a text in any
other script (or a multi-byte character) simply fails the shape.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

DIGIT_ZERO = ord("0")


def _offsets_and_data(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (one more than the texts) and byte buffer of a `string` array, without copying."""
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    _validity, offsets, data = texts.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32, count=len(texts) + 1, offset=texts.offset * 4)
    return starts, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8))


def fixed_width(texts: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the texts exactly `width` bytes long and not null, their bytes as an n×width uint8 matrix).
    Rows outside the mask hold arbitrary bytes; callers AND their checks with the mask."""
    offsets, data = _offsets_and_data(texts)
    fits = np.diff(offsets) == width
    if texts.null_count:
        fits &= np.asarray(texts.is_valid().to_numpy(zero_copy_only=False))
    if fits.all():  # the usual case: the texts lie back to back, so the matrix is a view of the buffer
        return fits, data[offsets[0]:offsets[-1]].reshape(len(texts), width)
    if not fits.any():
        return fits, np.zeros((len(texts), width), dtype=np.uint8)
    starts = np.where(fits, offsets[:-1], offsets[:-1][fits][0])  # every gather stays inside the buffer
    return fits, data[starts[:, None] + np.arange(width)]


def digits_at(matrix: np.ndarray, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(mask of rows with an ASCII digit at every position, the number those digits spell, as int64)."""
    values = matrix[:, positions].astype(np.int64) - DIGIT_ZERO
    ok = ((values >= 0) & (values <= 9)).all(axis=1)
    number = np.zeros(len(matrix), dtype=np.int64)
    for column in range(len(positions)):
        number = number * 10 + values[:, column]
    return ok, number


def chars_at(matrix: np.ndarray, expected: dict[int, str]) -> np.ndarray:
    """Mask of rows holding the given ASCII character at each given position."""
    ok = np.ones(len(matrix), dtype=bool)
    for position, char in expected.items():
        ok &= matrix[:, position] == ord(char)
    return ok


def ascii_utf32(texts: pa.Array, width: int) -> np.ndarray | None:
    """The texts as fixed-width UTF-32LE code units (an n×width uint32 matrix, zero-padded) when every byte is
    ASCII and no text is null or longer than `width`; None otherwise (the caller takes the general route)."""
    offsets, data = _offsets_and_data(texts)
    used = data[offsets[0]:offsets[-1]]
    lengths = np.diff(offsets)
    if texts.null_count or (len(used) and used.max() >= 0x80) or (len(lengths) and lengths.max() > width):
        return None
    matrix = np.zeros((len(texts), width), dtype="<u4")
    if len(lengths) and (lengths == lengths[0]).all():
        matrix[:, :lengths[0]] = used.reshape(len(texts), lengths[0])
    else:  # byte k of text i goes to cell i * width + (k - its start)
        shift = np.arange(len(texts), dtype=np.int64) * width - (offsets[:-1] - offsets[0])
        matrix.reshape(-1)[np.repeat(shift, lengths) + np.arange(len(used))] = used
    return matrix
