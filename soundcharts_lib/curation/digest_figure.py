"""The digest's one figure: its audience growth leaders as numbered horizontal bars with their growth in %, a PNG
made with numpy and zlib (no plotting library is installed with the package; mail clients show a PNG inline where
they show no SVG). Its numbers and colours are those of the leaders' table in the mail."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np

WIDTH = 560
BAR, GAP, PAD = 22, 8, 12  # pixels: a bar's height, between bars, around them
SCALE = 3  # a glyph's pixel size
LABEL = 48  # the numbers' column
TEXT = 110  # room for the value after the longest bar
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
BACKGROUND, INK = (255, 255, 255), (51, 51, 51)
GLYPHS = {  # 3 x 5 pixels, rows top to bottom
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001010010",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "+": "000010111010000",
    "-": "000000111000000", "%": "101001010100101", " ": "000000000000000",
}


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _write(image: np.ndarray, text: str, x: int, y: int) -> None:
    """``text`` (digits, ``.+-%`` and spaces) at (``x``, ``y``), its top left corner."""
    for char in text:
        glyph = np.array([int(bit) for bit in GLYPHS[char]], dtype=bool).reshape(5, 3)
        block = np.kron(glyph, np.ones((SCALE, SCALE), dtype=bool))
        image[y:y + block.shape[0], x:x + block.shape[1]][block] = INK
        x += 4 * SCALE


def png(image: np.ndarray) -> bytes:
    """An RGB image (height x width x 3, uint8) as PNG bytes."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in image)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def growth_bars(pcts: Sequence[float]) -> bytes | None:
    """Bars of ``pcts`` (growth in %, best first), numbered from 1, each in its colour of :data:`COLOURS`, its
    value written after it; None without values."""
    pcts = [float(p) for p in pcts][:len(COLOURS)]
    if not pcts:
        return None
    height = 2 * PAD + len(pcts) * BAR + (len(pcts) - 1) * GAP
    image = np.empty((height, WIDTH, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    longest = max(abs(p) for p in pcts) or 1.0
    room = WIDTH - LABEL - TEXT
    for i, pct in enumerate(pcts):
        top = PAD + i * (BAR + GAP)
        length = max(2, round(abs(pct) / longest * room))
        image[top:top + BAR, LABEL:LABEL + length] = _rgb(COLOURS[i])
        middle = top + (BAR - 5 * SCALE) // 2
        _write(image, str(i + 1), LABEL - 8 - 4 * SCALE * len(str(i + 1)), middle)
        _write(image, f"{pct:+.2f}%" if abs(pct) < 10 else f"{pct:+.1f}%", LABEL + length + 8, middle)
    return png(image)
