"""Infographics: layouts (TOML data files) drawn with Pillow.

``render(dirs, "vuong", data)`` finds ``infographics/vuong.toml`` in the
first folder of *dirs* that has it (the user's folder, then the built-in
templates), checks it (:mod:`.layout`), draws every block in file order and
encodes the image.  The shipped layouts are ``vuong`` (1080×1080 feed image),
``the-lien-ket`` (1200×630 link card) and ``doc`` (1080×1350 portrait).

Limits, enforced before drawing (an InputError names the field):

=================  =========================================================
title              1–200 characters (required)
points             0–5 key points of 1–120 characters each; 0 leaves the
                   points block (and a label with ``show_if = "points"``) out
affected           ≤ 150 characters
how_to_comment     ≤ 160 characters
deadline           ≤ 80 characters
agency             ≤ 100 characters
qr_url             ≤ 300 characters; must give QR modules of ≥ 2 px
=================  =========================================================

The shipped layouts are sized so that any text within these limits fits at
their minimum font sizes (checked by ``tests/test_infographic_props.py``); a
user layout with smaller blocks may still refuse a text, naming the block.
Text is NFC-normalised before it is measured or drawn.  Output is
deterministic: the same data gives the same pixels and the same bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal, overload

from PIL import Image, ImageDraw

from ..errors import InputError
from . import layout as layouts
from .blocks import Drawn, draw_points, draw_text
from .images import logo_image, panel, qr_image, qr_modules
from .layout import Block, Layout

MAX_POINTS = 5
#: Longest text per field, in characters (after NFC); each point has the "points" limit.
LIMITS = {"title": 200, "points": 120, "affected": 150, "how_to_comment": 160, "deadline": 80,
          "agency": 100, "qr_url": 300}
FORMATS = ("png", "jpeg")


@dataclass(frozen=True)
class InfographicData:
    """Everything a layout can show; all text already NFC and in Vietnamese."""

    title: str                      # the policy title
    points: tuple[str, ...]         # 3–5 key points (0 allowed: the block is then left out)
    affected: str                   # who is affected ("Đối tượng chịu tác động")
    how_to_comment: str             # how to comment
    deadline: str                   # until when, already formatted, e.g. "Hạn góp ý: hết ngày 31 tháng 12 năm 2026"
    agency: str                     # agency full name
    logo: Path | None = None        # agency logo (PNG with alpha), or None for none
    qr_url: str | None = None       # the draft's comment page; None: no QR code


def available(dirs: Sequence[Path]) -> list[str]:
    """Layout names found in ``<dir>/infographics/*.toml`` (user folder first)."""
    return layouts.available(dirs)


def load_layout(dirs: Sequence[Path], name: str) -> Layout:
    """Layout *name* from the first folder that has it, checked (cached while unchanged)."""
    return layouts.load(layouts.find(dirs, name))


def render(dirs: Sequence[Path], name: str, data: InfographicData, fmt: str = "png") -> bytes:
    """Draw layout *name* with *data* and encode it (png or jpeg).

    Raises InputError naming the layout file (and block/key/text) for a bad
    layout, text that cannot fit at the block's minimum size, or a glyph the
    font lacks.
    """
    if fmt not in FORMATS:  # refuse before the drawing work
        raise InputError("render.bad_format", format=fmt, choices=", ".join(FORMATS))
    return encode(draw(load_layout(dirs, name), data), fmt)


def encode(image: Image.Image, fmt: str = "png") -> bytes:
    """PNG (fast zlib level 1: Facebook re-encodes anyway) or JPEG (quality 90, RGB)."""
    out = BytesIO()
    if fmt == "png":
        image.save(out, "PNG", compress_level=1, optimize=False)
    elif fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=False)
    else:
        raise InputError("render.bad_format", format=fmt, choices=", ".join(FORMATS))
    return out.getvalue()


def clean(data: InfographicData) -> InfographicData:
    """*data* NFC-normalised, whitespace-tidied and checked against :data:`LIMITS`."""
    values = {}
    for f in fields(InfographicData):
        value = getattr(data, f.name)
        if f.name == "points":
            value = () if value is None else value
            if isinstance(value, str) or len(value) > MAX_POINTS:
                raise InputError("render.too_many_points", count=len(value), limit=MAX_POINTS)
            value = tuple(_text(f"points[{i + 1}]", v, LIMITS["points"], True) for i, v in enumerate(value))
        elif f.name in LIMITS:
            value = None if value is None else _text(f.name, value, LIMITS[f.name], f.name == "title")
        values[f.name] = value
    return InfographicData(**values)


def _text(field: str, value: object, limit: int, required: bool) -> str:
    if not isinstance(value, str):
        raise InputError("render.bad_value", field=field, value=repr(value)[:40])
    # tabs and Windows line ends would be drawn as boxes; keep the author's line breaks
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))
    if required and not text:
        raise InputError("render.empty", field=field)
    if len(text) > limit:
        raise InputError("render.too_long_field", field=field, length=len(text), limit=limit)
    return text


@overload
def draw(layout: Layout, data: InfographicData, report: Literal[False] = False) -> Image.Image: ...
@overload
def draw(layout: Layout, data: InfographicData, report: Literal[True]) -> tuple[Image.Image, list[Drawn]]: ...


def draw(layout: Layout, data: InfographicData, report: bool = False) -> Image.Image | tuple[Image.Image, list[Drawn]]:
    """The infographic as an RGB image; with *report*, also every drawn run's ink box."""
    data = clean(data)
    file = str(layout.path)
    canvas = _base(layout).copy()
    pen = ImageDraw.Draw(canvas)
    drawn: list[Drawn] = []
    for block in layout.blocks:
        if block.show_if and not getattr(data, block.show_if):
            continue
        # rects without show_if are in the cached background (under everything, in file order);
        # the others are drawn here, in file order among the content blocks
        if block.kind == "rect":
            if block.show_if:
                panel(canvas, block.box, block.fill, block.radius)
            continue
        value = getattr(data, block.field) if block.field else block.text
        if not value:  # an empty field leaves its block empty
            continue
        if block.kind == "text":
            text = unicodedata.normalize("NFC", value.upper() if block.uppercase else value)
            drawn += draw_text(pen, file, block, text, report)
        elif block.kind == "points":
            drawn += draw_points(pen, file, block, tuple(value), report)
        elif block.kind == "qr":
            drawn.append(_qr(canvas, file, block, value))
        elif block.kind == "logo":
            drawn.append(_logo(canvas, block, Path(value)))
    return (canvas, drawn) if report else canvas


@lru_cache(maxsize=16)
def _base(layout: Layout) -> Image.Image:
    """Background and rect blocks: they do not depend on the data, so they are drawn once per layout."""
    canvas = Image.new("RGB", (layout.width, layout.height), layout.background)
    for block in layout.blocks:
        if block.kind == "rect" and not block.show_if:
            panel(canvas, block.box, block.fill, block.radius)
    return canvas


def _qr(canvas: Image.Image, file: str, block: Block, url: str) -> Drawn:
    image = qr_image(url, min(block.w, block.h), block.dark, block.light, block.quiet_zone)
    if image is None:
        raise InputError("render.qr_too_dense", file=file, block=block.name, length=len(url),
                         modules=qr_modules(url) + 2 * block.quiet_zone, side=min(block.w, block.h))
    return _paste(canvas, block, image, "center", "middle", "qr")


def _logo(canvas: Image.Image, block: Block, path: Path) -> Drawn:
    return _paste(canvas, block, logo_image(path, block.w, block.h), block.align, block.valign, "logo")


def _paste(canvas: Image.Image, block: Block, image: Image.Image, align: str, valign: str, kind: str) -> Drawn:
    x = {"left": block.x, "right": block.x + block.w - image.width}.get(align, block.x + (block.w - image.width) // 2)
    y = {"top": block.y, "bottom": block.y + block.h - image.height}.get(
        valign, block.y + (block.h - image.height) // 2)
    canvas.paste(image, (x, y), image if image.mode == "RGBA" else None)
    return Drawn(block.name, kind, (x, y, x + image.width, y + image.height))
