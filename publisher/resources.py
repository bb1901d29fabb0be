"""Where the files that ship with publisher are.

In a checkout (``pip install -e .``) they are at the project root; in a wheel
they are copied into ``publisher/_data`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.exists() else _PACKAGE.parent / name


def default_config() -> Path:
    """The commented config.toml used when no other file is found."""
    return _shipped("config.toml")


def builtin_templates() -> Path:
    return _shipped("templates")


def assets() -> Path:
    """Fonts, logos and backgrounds used by the infographic layouts."""
    return _shipped("assets")
