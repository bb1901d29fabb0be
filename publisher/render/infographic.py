"""Infographics: layouts (TOML data files) drawn with Pillow.

INTERFACE STUB — to be implemented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


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
    raise NotImplementedError


def render(dirs: Sequence[Path], name: str, data: InfographicData, fmt: str = "png") -> bytes:
    """Draw layout *name* with *data* and encode it (png or jpeg).

    Raises InputError naming the layout file (and block/key/text) for a bad
    layout, text that cannot fit at the block's minimum size, or a glyph the
    font lacks.
    """
    raise NotImplementedError
