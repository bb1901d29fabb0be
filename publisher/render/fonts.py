"""Fonts for the infographics: loaded by path from ``assets/``, cached, checked for glyphs.

A layout names a font file relative to :func:`publisher.resources.assets`
(``fonts/BeVietnamPro-Bold.ttf``).  Loading a FreeType face costs about a
millisecond and a block is tried at several sizes while shrinking, so faces
are cached per (file, size) and the file's bytes once per file.

Glyph coverage is read from the font's character map with fontTools
(``getBestCmap``): it is exact and costs one set lookup per character.  The
alternative — comparing each character's Pillow mask with the ``.notdef``
glyph — is a heuristic (blank glyphs such as spaces look alike) and renders
every character, so fontTools was chosen and added as a dependency.  A
character the font lacks would otherwise be drawn as an empty box ("tofu") in
a public image; it is refused with an error naming the font and the characters.

Layout engine: ``ImageFont.Layout.BASIC``.  Text is NFC, so every Vietnamese
letter is one precomposed glyph of the font (no mark positioning needed); the
basic engine gives the same pixels whether or not libraqm/fribidi are on the
machine (golden images stay valid) and is faster.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from ..errors import InputError
from ..resources import assets

#: Characters never drawn as glyphs: line breaks are handled by the wrapper.
_NOT_DRAWN = frozenset("\n")


def path_of(rel: str) -> Path:
    """The font file *rel* (relative to ``assets/``, or absolute for tests and user fonts)."""
    path = Path(rel)
    return path if path.is_absolute() else assets() / path


@lru_cache(maxsize=16)
def _font_bytes(rel: str) -> bytes:
    try:
        return path_of(rel).read_bytes()
    except OSError as exc:
        raise InputError("render.bad_font", font=rel, detail=exc.strerror or str(exc)) from exc


@lru_cache(maxsize=512)
def font(rel: str, size: int) -> ImageFont.FreeTypeFont:
    """The face of font file *rel* at *size* pixels (cached: shrinking tries many sizes)."""
    try:
        return ImageFont.truetype(BytesIO(_font_bytes(rel)), size, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:  # not a font file
        raise InputError("render.bad_font", font=rel, detail=str(exc)) from exc


@lru_cache(maxsize=16)
def coverage(rel: str) -> frozenset[int]:
    """The code points font *rel* has a glyph for (its best Unicode cmap)."""
    try:
        with TTFont(BytesIO(_font_bytes(rel)), lazy=True) as face:
            cmap = face.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError) as exc:
        raise InputError("render.bad_font", font=rel, detail=str(exc)) from exc
    return frozenset(cmap)


def missing_glyphs(rel: str, text: str) -> list[str]:
    """The distinct characters of *text* that font *rel* cannot draw, in order of code point."""
    have = coverage(rel)
    return sorted({c for c in text if ord(c) not in have and c not in _NOT_DRAWN})


def check_glyphs(rel: str, text: str, file: str, block: str) -> None:
    """Refuse *text* if font *rel* lacks any of its characters (names font, block and characters)."""
    missing = missing_glyphs(rel, text)
    if missing:
        chars = ", ".join(f"'{c}' U+{ord(c):04X}" for c in missing[:12]) + (" …" if len(missing) > 12 else "")
        raise InputError("render.missing_glyphs", font=rel, chars=chars, file=file, block=block)
