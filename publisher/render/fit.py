"""Text fitting: wrap by pixel width, place lines by their real ink, shrink until it fits.

Widths and heights come from the glyphs' bounding boxes of the actual text
(``font.getbbox(line, anchor="ls")``, relative to the baseline), not from the
font's ascent/descent: stacked Vietnamese capitals such as "Ấ Ể Ỗ Ặ" rise
above the ascent and would be clipped by a box sized from the metrics.

A block tries sizes from its maximum down to its minimum (binary search:
fitting gets easier as the size shrinks) and keeps the largest that fits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from PIL import ImageFont

T = TypeVar("T")
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Lines:
    """Wrapped lines at one size, with where each baseline goes relative to the ink top."""

    size: int
    texts: tuple[str, ...]
    inks: tuple[Box, ...]     # each line's ink box, baseline at y=0 and pen at x=0
    baselines: tuple[int, ...]  # baseline of each line, measured from the top of the whole ink
    width: int                # widest line's ink, from its leftmost to its rightmost pixel
    height: int               # from the top of the highest ink to the bottom of the lowest


def ink(font: ImageFont.FreeTypeFont, text: str) -> Box:
    """Ink box of *text* with the pen at (0, 0) on the baseline; empty text -> zero box."""
    if not text:
        return (0, 0, 0, 0)
    return tuple(int(v) for v in font.getbbox(text, anchor="ls"))  # type: ignore[return-value]


def _ink_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    left, _, right, _ = ink(font, text)
    return right - min(left, 0)


def _break_word(font: ImageFont.FreeTypeFont, word: str, width: int) -> list[str]:
    """Cut a word wider than the block into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    while word:
        lo, hi = 1, len(word)  # longest prefix that fits; a single glyph always goes
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _ink_width(font, word[:mid]) <= width:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(word[:lo])
        word = word[lo:]
    return pieces


def wrap(font: ImageFont.FreeTypeFont, text: str, width: int) -> list[str]:
    """Greedy word wrap of *text* to *width* pixels; ``\\n`` starts a new paragraph."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if _ink_width(font, candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            if _ink_width(font, word) <= width:
                line = word
            else:  # a single word wider than the block (a long URL, a code): break it
                *full, line = _break_word(font, word, width)
                lines.extend(full)
        lines.append(line)
    return lines


def layout_lines(font: ImageFont.FreeTypeFont, size: int, texts: list[str], line_spacing: float) -> Lines:
    """Place wrapped lines: a pitch of ``size * line_spacing``, more if the ink would touch."""
    inks = [ink(font, t) for t in texts]
    pitch = round(size * line_spacing)
    for above, below in zip(inks, inks[1:], strict=False):
        # the descenders of one line must clear the stacked accents of the next
        pitch = max(pitch, above[3] - below[1] + max(1, size // 10))
    tops = [i * pitch + box[1] for i, box in enumerate(inks) if box != (0, 0, 0, 0)] or [0]
    bottoms = [i * pitch + box[3] for i, box in enumerate(inks) if box != (0, 0, 0, 0)] or [0]
    first = -min(tops)
    widths = [box[2] - min(box[0], 0) for box in inks]
    return Lines(size=size, texts=tuple(texts), inks=tuple(inks),
                 baselines=tuple(first + i * pitch for i in range(len(texts))),
                 width=max(widths, default=0), height=max(bottoms) - min(tops))


def fit_text(rel_font: Callable[[int], ImageFont.FreeTypeFont], text: str, sizes: tuple[int, int],
             width: int, height: int, line_spacing: float) -> Lines | None:
    """The largest size in *sizes* at which *text* wraps into width × height, or None."""

    def attempt(size: int) -> Lines | None:
        face = rel_font(size)
        lines = layout_lines(face, size, wrap(face, text, width), line_spacing)
        return lines if lines.width <= width and lines.height <= height else None

    return shrink(sizes, attempt)


def shrink(sizes: tuple[int, int], attempt: Callable[[int], T | None]) -> T | None:
    """Binary search for the largest size whose *attempt* succeeds (None if even the smallest fails)."""
    low, high = sizes
    best = attempt(high)
    if best is not None:  # the common case for short texts: one try
        return best
    high -= 1
    while low <= high:
        mid = (low + high + 1) // 2
        result = attempt(mid)
        if result is not None:
            best, low = result, mid + 1
        else:
            high = mid - 1
    return best
