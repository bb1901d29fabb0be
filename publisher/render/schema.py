"""The keys a layout block may have, their types, and the checks that read them.

Kept apart from :mod:`publisher.render.layout` so that the list of keys — what
a staff member may write in a layout file — is in one place.  Each check
raises :class:`~publisher.errors.InputError` naming the file and the key path
(``blocks.<name>.<key>``, or ``blocks[<n>]`` before the block has a name).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError

Rgb = tuple[int, int, int]

KINDS = ("text", "points", "qr", "logo", "rect")
#: Which InfographicData field each kind of block can show.
FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("title", "affected", "how_to_comment", "deadline", "agency"),
    "points": ("points",),
    "qr": ("qr_url",),
    "logo": ("logo",),
    "rect": (),
}
ALL_FIELDS = ("title", "points", "affected", "how_to_comment", "deadline", "agency", "logo", "qr_url")
DEFAULTS: dict[str, Any] = {"font": "fonts/BeVietnamPro-Regular.ttf", "bullet_font": "fonts/BeVietnamPro-Bold.ttf"}

_COMMON = ("name", "kind", "x", "y", "w", "h", "show_if")
_TEXT = ("font", "size", "colour", "line_spacing")
BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    "rect": _COMMON + ("fill", "radius"),
    "text": _COMMON + _TEXT + ("field", "text", "align", "valign", "uppercase"),
    "points": _COMMON + _TEXT + ("field", "gap", "bullet", "bullet_colour", "bullet_text_colour", "bullet_font"),
    "qr": _COMMON + ("field", "dark", "light", "quiet_zone"),
    "logo": _COMMON + ("field", "align", "valign"),
}
_CHOICES = {"align": ("left", "center", "right"), "valign": ("top", "middle", "bottom"),
            "bullet": ("number", "dot")}
_INTS = {"x": (0, 4096), "y": (0, 4096), "w": (1, 4096), "h": (1, 4096), "radius": (0, 2048),
         "gap": (0, 512), "quiet_zone": (2, 8)}
_COLOURS = ("colour", "fill", "bullet_colour", "bullet_text_colour", "dark", "light")
_HEX = re.compile(r"#([0-9A-Fa-f]{6})")


def colour(file: str, key: str, value: object, palette: dict[str, Rgb]) -> Rgb:
    """``"#RRGGBB"`` or the name of a colour of the layout's ``[colours]`` table."""
    if isinstance(value, str):
        if value in palette:
            return palette[value]
        match = _HEX.fullmatch(value)
        if match:
            n = int(match.group(1), 16)
            return (n >> 16, (n >> 8) & 255, n & 255)
    raise InputError("layout.bad_colour", file=file, key=key, value=repr(value), names=", ".join(palette) or "-")


def block_values(file: str, index: int, raw: dict[str, Any], palette: dict[str, Rgb]) -> dict[str, Any]:
    """The keyword arguments of one ``Block``, checked; defaults for what is not written."""
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("layout.required", file=file, key=f"blocks[{index + 1}].name")
    where = f"blocks.{name}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InputError("layout.bad_choice", file=file, key=f"{where}.kind", value=repr(kind),
                         choices=", ".join(KINDS))
    allowed = BLOCK_KEYS[kind]
    out: dict[str, Any] = {"name": name, "kind": kind}
    for key, value in raw.items():
        if key not in allowed:
            raise InputError("layout.unknown_key", file=file, key=f"{where}.{key}", allowed=", ".join(allowed))
        path = f"{where}.{key}"
        if key in ("name", "kind"):
            continue
        if key in _INTS:
            low, high = _INTS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InputError("layout.not_integer", file=file, key=path, low=low, high=high)
            out[key] = value
        elif key in _COLOURS:
            out[key] = colour(file, path, value, palette)
        elif key in _CHOICES:
            if value not in _CHOICES[key]:
                raise InputError("layout.bad_choice", file=file, key=path, value=repr(value),
                                 choices=", ".join(_CHOICES[key]))
            out[key] = value
        elif key in ("field", "show_if"):
            fields = FIELDS[kind] if key == "field" else ALL_FIELDS
            if value not in fields:
                raise InputError("layout.unknown_field", file=file, key=path, field=repr(value),
                                 fields=", ".join(fields))
            out[key] = value
        elif key == "size":
            out["size_min"], out["size_max"] = _size(file, path, value)
        elif key == "line_spacing":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.8 <= value <= 3.0:
                raise InputError("layout.not_number", file=file, key=path, low=0.8, high=3.0)
            out[key] = float(value)
        elif key == "uppercase":
            if not isinstance(value, bool):
                raise InputError("layout.not_bool", file=file, key=path)
            out[key] = value
        else:  # font, bullet_font, text: non-empty strings
            if not isinstance(value, str) or not value.strip():
                raise InputError("layout.not_text", file=file, key=path)
            out[key] = value
    for key in ("x", "y", "w", "h"):
        if key not in out:
            raise InputError("layout.required", file=file, key=f"{where}.{key}")
    if kind == "text" and ("field" in out) == ("text" in out):
        raise InputError("layout.field_or_text", file=file, key=where)
    if kind in ("points", "qr", "logo"):
        out.setdefault("field", FIELDS[kind][0])
    return out


def _size(file: str, key: str, value: object) -> tuple[int, int]:
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 6 <= v <= 400 for v in value)
            and value[0] <= value[1]):
        return value[0], value[1]
    raise InputError("layout.bad_size", file=file, key=key, value=repr(value))
