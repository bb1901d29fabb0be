"""Drawing the text and key-point blocks, and reporting where each glyph run went.

Every drawn run is reported as a :class:`Drawn` (block, ink box, text, font):
the property tests check that each box lies inside its block and the canvas
and that the font has every character.  With ``exact=True`` (the report of
:func:`publisher.render.infographic.draw`) the box comes from Pillow's own
``ImageDraw.textbbox`` of what was drawn, not from the fitting arithmetic it
is meant to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PIL import ImageDraw

from ..errors import InputError
from . import fonts
from .fit import Lines, fit_text, layout_lines, shrink, wrap
from .glyphs import Box, face
from .layout import Block

#: How much of a text that does not fit is quoted in the error.
QUOTE_CHARS = 40


@dataclass(frozen=True)
class Drawn:
    """One thing drawn: the block it belongs to, its ink box (right/bottom exclusive), its text and font."""

    block: str
    kind: str          # "text", "bullet", "qr", "logo"
    box: Box
    text: str = ""
    font: str = ""


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rstrip() + "…"


def _lines(draw: ImageDraw.ImageDraw, block: Block, lines: Lines, x0: int, width: int, top: int,
           align: str, exact: bool) -> list[Drawn]:
    """Draw placed *lines* with the ink top at *top*, aligned inside [x0, x0 + width)."""
    glyphs = face(block.font, lines.size)
    out: list[Drawn] = []
    for text, (left, ink_top, right, ink_bottom), baseline in zip(lines.texts, lines.inks, lines.baselines,
                                                                  strict=True):
        if not text:
            continue
        if align == "right":
            x = x0 + width - right
        elif align == "center":
            x = x0 + (width - (right - left)) // 2 - left
        else:  # left: a glyph that overhangs to the left (j, ʃ) is moved in, not clipped
            x = x0 - min(left, 0)
        y = top + baseline
        glyphs.draw(draw, x, y, text, block.colour)
        if exact:
            box = tuple(int(v) for v in draw.textbbox((x, y), text, font=glyphs.font, anchor="ls"))
        else:
            box = (x + left, y + ink_top, x + right, y + ink_bottom)
        out.append(Drawn(block.name, "text", box, text, block.font))  # type: ignore[arg-type]
    return out


def draw_text(draw: ImageDraw.ImageDraw, file: str, block: Block, text: str, exact: bool = False) -> list[Drawn]:
    """Wrap and shrink *text* into *block*; InputError naming the block if it cannot fit."""
    fonts.check_glyphs(block.font, text, file, block.name)
    lines = fit_text(partial(face, block.font), text, (block.size_min, block.size_max),
                     block.w, block.h, block.line_spacing)
    if lines is None:
        raise InputError("render.cannot_fit", file=file, block=block.name, text=_quote(text), size=block.size_min)
    if block.valign == "middle":
        top = block.y + (block.h - lines.height) // 2
    elif block.valign == "bottom":
        top = block.y + block.h - lines.height
    else:
        top = block.y
    return _lines(draw, block, lines, block.x, block.w, top, block.align, exact)


@dataclass(frozen=True)
class _Point:
    lines: Lines
    text_top: int     # ink top of the text, from the top of the point
    bullet_top: int   # top of the bullet circle, from the top of the point
    height: int


def _place_points(block: Block, points: tuple[str, ...], size: int) -> list[_Point] | None:
    """All points at *size*, or None if they do not fit the block."""
    glyphs = face(block.font, size)
    diameter, indent = _bullet_geometry(size)
    width = block.w - indent
    placed: list[_Point] = []
    total = 0
    for point in points:
        lines = layout_lines(glyphs, wrap(glyphs, point, width), block.line_spacing)
        if lines.width > width:
            return None
        # the bullet's centre sits at the middle of the first line's lower-case letters
        centre = lines.baselines[0] - round(size * 0.36)
        bullet_top = centre - diameter // 2
        shift = -min(0, bullet_top)
        height = max(lines.height, bullet_top + diameter) + shift
        placed.append(_Point(lines, shift, bullet_top + shift, height))
        total += height
        if total > block.h:  # give up on this size early
            return None
    total += block.gap * (len(points) - 1)
    return placed if total <= block.h else None


def _bullet_geometry(size: int) -> tuple[int, int]:
    diameter = round(size * 1.5)
    return diameter, diameter + round(size * 0.6)


def draw_points(draw: ImageDraw.ImageDraw, file: str, block: Block, points: tuple[str, ...],
                exact: bool = False) -> list[Drawn]:
    """Numbered (or dotted) key points, one font size for all of them, shrunk to fit the block."""
    for point in points:
        fonts.check_glyphs(block.font, point, file, block.name)
    placed = shrink((block.size_min, block.size_max), partial(_place_points, block, points))
    if placed is None:
        longest = max(points, key=len)
        raise InputError("render.cannot_fit", file=file, block=block.name, text=_quote(longest),
                         size=block.size_min)
    size = placed[0].lines.size
    diameter, indent = _bullet_geometry(size)
    out: list[Drawn] = []
    top = block.y
    for number, item in enumerate(placed, start=1):
        out.append(_bullet(draw, file, block, number, block.x, top + item.bullet_top, diameter))
        out += _lines(draw, block, item.lines, block.x + indent, block.w - indent, top + item.text_top,
                      "left", exact)
        top += item.height + block.gap
    return out


def _bullet(draw: ImageDraw.ImageDraw, file: str, block: Block, number: int, x: int, y: int,
            diameter: int) -> Drawn:
    if block.bullet == "dot":
        d = max(4, diameter * 2 // 5)
        x, y, diameter = x + (diameter - d) // 2, y + (diameter - d) // 2, d
    draw.ellipse((x, y, x + diameter - 1, y + diameter - 1), fill=block.bullet_colour)
    if block.bullet == "number":
        label = str(number)
        fonts.check_glyphs(block.bullet_font, label, file, block.name)
        digits = face(block.bullet_font, max(6, round(diameter * 0.58)))
        left, top, right, bottom = digits.ink(label)
        # centre the digit's ink, not its advance box: digits have no descender
        digits.draw(draw, x + (diameter - (right - left)) // 2 - left, y + (diameter - (bottom - top)) // 2 - top,
                    label, block.bullet_text_colour)
    return Drawn(block.name, "bullet", (x, y, x + diameter, y + diameter), "", block.bullet_font)
