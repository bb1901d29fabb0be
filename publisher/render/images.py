"""The picture parts of an infographic: QR code, agency logo, smooth rounded panels.

QR codes are made with segno at error correction level M (readable with up
to ~15 % of the code damaged or covered, e.g. by a fold or a phone's glare)
and drawn crisp: one pixel per module first, then scaled by an integer
factor with nearest-neighbour, so every module is a sharp square that a phone
camera reads even after Facebook re-encodes the image.  The quiet zone
(light margin around the code, 4 modules by the standard) is part of the code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, UnidentifiedImageError

from ..errors import InputError
from .schema import Rgb

#: A module smaller than this is not reliably read from a feed image.
MIN_MODULE_PX = 2
#: Rounded corners are drawn this many times larger, then reduced: smooth edges.
_SUPERSAMPLE = 4


def qr_image(url: str, side: int, dark: Rgb, light: Rgb, quiet_zone: int) -> Image.Image | None:
    """The QR code of *url* as an RGB square no larger than *side*, or None if modules would be too small."""
    code = segno.make(url, error="m", micro=False, boost_error=False)
    matrix = code.matrix
    n = len(matrix)
    module = side // (n + 2 * quiet_zone)
    if module < MIN_MODULE_PX:
        return None
    # one byte per module (0 = dark), quiet zone included, then an integer upscale
    total = n + 2 * quiet_zone
    rows = bytearray(b"\xff" * (total * total))
    for r, row in enumerate(matrix):
        start = (r + quiet_zone) * total + quiet_zone
        rows[start:start + n] = bytes(0 if bit else 255 for bit in row)
    mask = Image.frombytes("L", (total, total), bytes(rows))
    mask = mask.resize((total * module, total * module), Image.Resampling.NEAREST)
    out = Image.new("RGB", mask.size, dark)
    out.paste(Image.new("RGB", mask.size, light), (0, 0), mask)  # light where the mask is white
    return out


def qr_modules(url: str) -> int:
    """Modules per side of the QR code of *url* (without quiet zone); for errors and tests."""
    return len(segno.make(url, error="m", micro=False, boost_error=False).matrix)


def logo_image(path: Path, width: int, height: int) -> Image.Image:
    """The logo at *path* scaled to fit width × height, keeping its aspect ratio (RGBA)."""
    try:
        with Image.open(path) as source:
            source.load()
            logo = source.convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise InputError("render.bad_logo", path=str(path), detail=str(exc)) from exc
    scale = min(width / logo.width, height / logo.height)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    if size == logo.size:
        return logo
    # LANCZOS is deterministic and keeps a small emblem's lines sharp
    return logo.resize(size, Image.Resampling.LANCZOS)


@lru_cache(maxsize=64)
def _corner_mask(width: int, height: int, radius: int) -> Image.Image:
    big = Image.new("L", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, big.width - 1, big.height - 1), radius * _SUPERSAMPLE, fill=255)
    return big.resize((width, height), Image.Resampling.LANCZOS)


def panel(canvas: Image.Image, box: tuple[int, int, int, int], fill: Rgb, radius: int) -> None:
    """Fill *box* (left, top, right, bottom; exclusive) with *fill*; corners rounded and anti-aliased."""
    left, top, right, bottom = box
    if radius <= 0:
        ImageDraw.Draw(canvas).rectangle((left, top, right - 1, bottom - 1), fill=fill)
        return
    radius = min(radius, (right - left) // 2, (bottom - top) // 2)
    canvas.paste(fill, (left, top, right, bottom), _corner_mask(right - left, bottom - top, radius))
