"""Text fitting: wrap by pixel width, place lines by their real ink, shrink until it fits.

Widths and heights come from the glyphs' bounding boxes of the actual text
(the union of the glyph boxes, equal to ``font.getbbox(line, anchor="ls")``,
relative to the baseline), not from the font's ascent/descent: stacked
Vietnamese capitals such as "Ấ Ể Ỗ Ặ" rise above the ascent and would be
clipped by a box sized from the metrics.

A block tries sizes from its maximum down to its minimum (binary search:
fitting gets easier as the size shrinks) and keeps the largest that fits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .glyphs import Box, Face

T = TypeVar("T")


@dataclass(frozen=True)
class Lines:
    """Wrapped lines at one size, with where each baseline goes relative to the ink top."""

    size: int
    texts: tuple[str, ...]
    inks: tuple[Box, ...]       # each line's ink box, baseline at y=0 and pen at x=0
    baselines: tuple[int, ...]  # baseline of each line, measured from the top of the whole ink
    width: int                  # widest line's ink, from the pen (or a glyph left of it) to its right edge
    height: int                 # from the top of the highest ink to the bottom of the lowest


def _width(box: Box | None) -> int:
    return 0 if box is None else box[2] - min(box[0], 0)


def _break_word(face: Face, word: str, width: int) -> list[str]:
    """Cut a word wider than the block into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    while word:
        lo, hi = 1, len(word)  # longest prefix that fits; a single glyph always goes
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _width(face.measure(word[:mid])[1]) <= width:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(word[:lo])
        word = word[lo:]
    return pieces


_DASHES = "-–—"


def _units(paragraph: str) -> list[str]:
    """Words, with a lone dash kept on the line of both its neighbours ("2022 - 2027", "hỏi – đáp")."""
    units: list[str] = []
    glue = False
    for word in paragraph.split():
        dash = not word.strip(_DASHES)
        if units and (glue or dash):
            units[-1] = f"{units[-1]} {word}"
        else:
            units.append(word)
        glue = dash
    return units


def wrap(face: Face, text: str, width: int) -> list[str]:
    """Greedy word wrap of *text* to *width* pixels; ``\\n`` starts a new paragraph."""
    space = face.measure(" ")
    lines: list[str] = []
    measured: tuple[int, Box | None]
    for paragraph in text.split("\n"):
        line, measured = "", (0, None)
        pending = _units(paragraph)[::-1]  # a stack: a glued unit too wide for a line goes back as words
        while pending:
            word = pending.pop()
            word_measure = face.measure(word)
            if line:
                candidate = face.join(face.join(measured, space), word_measure)
                if _width(candidate[1]) <= width:
                    line, measured = f"{line} {word}", candidate
                    continue
                lines.append(line)
                line, measured = "", (0, None)
            if _width(word_measure[1]) <= width:
                line, measured = word, word_measure
            elif " " in word:  # "2022 - 2027" wider than the block: give up keeping it together
                pending.extend(word.split()[::-1])
            else:  # a single word wider than the block (a long URL, a code): break it
                *full, line = _break_word(face, word, width)
                lines.extend(full)
                measured = face.measure(line)
        lines.append(line)
    return lines


def layout_lines(face: Face, texts: list[str], line_spacing: float) -> Lines:
    """Place wrapped lines: a pitch of ``size * line_spacing``, more if the ink would touch."""
    size = face.size
    inks = [face.ink(t) for t in texts]
    pitch = round(size * line_spacing)
    for above, below in zip(inks, inks[1:], strict=False):
        # the descenders of one line must clear the stacked accents of the next
        pitch = max(pitch, above[3] - below[1] + max(1, size // 10))
    drawn = [(i, box) for i, box in enumerate(inks) if texts[i]]
    # reserve room for the highest stacked capital above the first line and the deepest descender
    # below the last: every block then puts its first baseline at the same depth, so labels side by
    # side line up whether or not their words carry stacked accents
    top_ref, bottom_ref = face.extent()
    tops = [i * pitch + box[1] for i, box in drawn] + [top_ref]
    bottoms = [i * pitch + box[3] for i, box in drawn] + [(len(texts) - 1) * pitch + bottom_ref]
    first = -min(tops)
    return Lines(size=size, texts=tuple(texts), inks=tuple(inks),
                 baselines=tuple(first + i * pitch for i in range(len(texts))),
                 width=max((_width(box) for box in inks), default=0), height=max(bottoms) - min(tops))


def fit_text(face_at: Callable[[int], Face], text: str, sizes: tuple[int, int],
             width: int, height: int, line_spacing: float) -> Lines | None:
    """The largest size in *sizes* at which *text* wraps into width × height, or None."""

    def attempt(size: int) -> Lines | None:
        face = face_at(size)
        texts = wrap(face, text, width)
        if (len(texts) - 1) * round(size * line_spacing) > height:  # too many lines: skip measuring
            return None
        lines = layout_lines(face, texts, line_spacing)
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
