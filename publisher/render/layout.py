"""Infographic layouts: TOML data files, loaded and checked before anything is drawn.

A layout is ``<dir>/infographics/<name>.toml``; the first folder of *dirs* that
has it wins (the user's folder comes before the built-in one, so a staff member
overrides a layout by copying it).  The file has a ``[canvas]`` table, an
optional ``[colours]`` palette and an array of ``[[blocks]]``; the shipped
layouts document every key in Vietnamese and English.

Every mistake is an :class:`~publisher.errors.InputError` that names the file
and the key (``blocks.<name>.<key>``), because the person reading it is the
staff member who edited the file, not a programmer.  ``rect`` blocks are
decoration (bands, panels) and may lie under the others; the content blocks
(text, points, qr, logo) must not overlap one another, so that no text is drawn
over other text.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..resources import assets
from .fonts import path_of
from .schema import BLOCK_KEYS, DEFAULTS, KINDS, Rgb, block_values, colour

SUBDIR = "infographics"


@dataclass(frozen=True)
class Block:
    """One rectangle of the canvas and what is drawn in it (see the layout files)."""

    name: str
    kind: str
    x: int
    y: int
    w: int
    h: int
    field: str | None = None        # the InfographicData field shown (None: fixed ``text`` or a rect)
    text: str | None = None         # a fixed label such as "Điểm chính"
    show_if: str | None = None      # drawn only when this field is not empty
    font: str = DEFAULTS["font"]    # path relative to assets()
    bullet_font: str = DEFAULTS["bullet_font"]
    size_min: int = 16
    size_max: int = 32
    colour: Rgb = (0, 0, 0)
    align: str = "left"
    valign: str = "top"
    line_spacing: float = 1.25
    uppercase: bool = False
    fill: Rgb = (255, 255, 255)
    radius: int = 0
    gap: int = 12
    bullet: str = "number"
    bullet_colour: Rgb = (0, 0, 0)
    bullet_text_colour: Rgb = (255, 255, 255)
    dark: Rgb = (0, 0, 0)
    light: Rgb = (255, 255, 255)
    quiet_zone: int = 4

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), right/bottom exclusive."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)


@dataclass(frozen=True)
class Layout:
    name: str
    path: Path
    width: int
    height: int
    background: Rgb
    blocks: tuple[Block, ...]


def available(dirs: Sequence[Path]) -> list[str]:
    """Layout names found in ``<dir>/infographics/*.toml`` of any folder."""
    return sorted({p.stem for d in dirs for p in (Path(d) / SUBDIR).glob("*.toml")})


def find(dirs: Sequence[Path], name: str) -> Path:
    """The file of layout *name*: the first folder that has it (user folder first)."""
    for d in dirs:
        path = Path(d) / SUBDIR / f"{name}.toml"
        if path.is_file():
            return path
    raise InputError("layout.not_found", name=name, available=", ".join(available(dirs)) or "-")


def load(path: Path) -> Layout:
    """Read and check one layout file; cached while the file is unchanged."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise InputError("layout.unreadable", file=str(path), detail=exc.strerror or str(exc)) from exc
    return _load(Path(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _load(path: Path, _mtime_ns: int, _size: int) -> Layout:
    # mtime and size are in the key so that an edited file is read again
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError("layout.syntax", file=file, detail=str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("layout.unreadable", file=file, detail=str(exc)) from exc
    for key in raw:
        if key not in ("canvas", "colours", "blocks"):
            raise InputError("layout.unknown_key", file=file, key=key, allowed="canvas, colours, blocks")
    palette = _palette(file, raw.get("colours", {}))
    width, height, background = _canvas(file, raw.get("canvas"), palette)
    blocks_raw = raw.get("blocks")
    if not isinstance(blocks_raw, list) or not blocks_raw or not all(isinstance(b, dict) for b in blocks_raw):
        raise InputError("layout.not_blocks", file=file, key="blocks")
    blocks: list[Block] = []
    for index, entry in enumerate(blocks_raw):
        block = Block(**block_values(file, index, entry, palette))
        if any(b.name == block.name for b in blocks):
            raise InputError("layout.duplicate_block", file=file, block=block.name)
        _check_block(file, block, width, height)
        blocks.append(block)
    _check_overlaps(file, blocks)
    return Layout(path.stem, path, width, height, background, tuple(blocks))


def _palette(file: str, raw: object) -> dict[str, Rgb]:
    if not isinstance(raw, dict):
        raise InputError("layout.not_table", file=file, key="colours")
    return {name: colour(file, f"colours.{name}", value, {}) for name, value in raw.items()}


def _canvas(file: str, raw: object, palette: dict[str, Rgb]) -> tuple[int, int, Rgb]:
    if raw is None:
        raise InputError("layout.required", file=file, key="canvas")
    if not isinstance(raw, dict):
        raise InputError("layout.not_table", file=file, key="canvas")
    for key in raw:
        if key not in ("width", "height", "background"):
            raise InputError("layout.unknown_key", file=file, key=f"canvas.{key}", allowed="width, height, background")
    sizes = []
    for key in ("width", "height"):
        value = raw.get(key)
        if value is None:
            raise InputError("layout.required", file=file, key=f"canvas.{key}")
        if not isinstance(value, int) or isinstance(value, bool) or not 64 <= value <= 4096:
            raise InputError("layout.not_integer", file=file, key=f"canvas.{key}", low=64, high=4096)
        sizes.append(value)
    background = colour(file, "canvas.background", raw.get("background", "#FFFFFF"), palette)
    return sizes[0], sizes[1], background


def _check_block(file: str, block: Block, width: int, height: int) -> None:
    if block.x < 0 or block.y < 0 or block.x + block.w > width or block.y + block.h > height:
        raise InputError("layout.outside", file=file, block=block.name, box=f"x={block.x} y={block.y} w={block.w} "
                         f"h={block.h}", width=width, height=height)
    fonts = {"text": ("font",), "points": ("font", "bullet_font")}.get(block.kind, ())
    for key in fonts:
        font = getattr(block, key)
        if not path_of(font).is_file():
            raise InputError("layout.unknown_font", file=file, key=f"blocks.{block.name}.{key}", font=font,
                             dir=str(assets()))


def _check_overlaps(file: str, blocks: list[Block]) -> None:
    content = [b for b in blocks if b.kind != "rect"]
    for i, a in enumerate(content):
        for b in content[i + 1:]:
            if a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h:
                raise InputError("layout.overlap", file=file, block=b.name, other=a.name)


__all__ = ["BLOCK_KEYS", "KINDS", "SUBDIR", "Block", "Layout", "available", "find", "load"]
