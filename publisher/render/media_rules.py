"""Per-channel media rules: convert or compress an image so the peer accepts it.

Facebook accepts JPEG/PNG photos up to 4 MB and re-encodes them anyway, so an
image that breaks a rule becomes a JPEG (quality stepped down until it fits)
no larger than the longest side allowed.  The original is never touched: the
converted file is a new, content-addressed file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ..errors import InputError


@dataclass(frozen=True)
class MediaRules:
    max_bytes: int
    formats: frozenset[str]  # Pillow format names the peer accepts as they are
    max_side: int  # longest side in pixels


#: Rules by channel format; a format without rules takes files as they are.
RULES: dict[str, MediaRules] = {
    "facebook": MediaRules(max_bytes=4 * 1024 * 1024, formats=frozenset({"JPEG", "PNG"}), max_side=2048),
}
_QUALITIES = (90, 85, 80, 70, 60, 50)


def adapt(data: bytes, name: str, rules: MediaRules | None) -> tuple[bytes, str] | None:
    """A converted ``(bytes, suffix)`` if *data* breaks *rules*, else None (use as is)."""
    if rules is None:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, Image.DecompressionBombError):
        raise InputError("media.not_image", name=name) from None
    fits = image.format in rules.formats and len(data) <= rules.max_bytes and max(image.size) <= rules.max_side
    if fits:
        return None
    return _as_jpeg(image, rules, name), ".jpg"


def _as_jpeg(image: Image.Image, rules: MediaRules, name: str) -> bytes:
    if max(image.size) > rules.max_side:
        image = image.copy()
        image.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)
    if image.mode != "RGB":  # JPEG has no alpha: flatten onto white, as Facebook would
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = background
    for quality in _QUALITIES:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= rules.max_bytes:
            return out.getvalue()
    raise InputError("media.too_large", name=name, limit=rules.max_bytes // (1024 * 1024))
