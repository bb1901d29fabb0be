"""Vietnamese-first user-facing messages, English available.

Every message shown to a person has a key in a ``locale/*.toml`` file (one
per area: ``messages.toml`` for the core, ``audit.toml`` for the auditor's
reports, ...; a key may live in one file only) with a ``vi`` and an ``en``
text (``str.format`` placeholders).  Code raises errors and prints tables by
key, so the language is chosen once, at the face (CLI or web), from
``--lang``, ``PUBLISHER_LANG`` or ``display.language``.
"""

from __future__ import annotations

import tomllib
import unicodedata
from functools import cache
from pathlib import Path

LANGUAGES = ("vi", "en")
_LOCALE = Path(__file__).parent / "locale"
_language = "vi"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """All messages, NFC-normalised (typed Vietnamese may arrive decomposed)."""
    raw = raw_catalogue()
    return {
        key: {lang: unicodedata.normalize("NFC", text) for lang, text in texts.items()}
        for key, texts in raw.items()
    }


def raw_catalogue() -> dict[str, dict[str, str]]:
    """Every ``locale/*.toml`` file merged, as written; a key defined twice is a bug."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_LOCALE.glob("*.toml")):
        with path.open("rb") as fh:
            part = tomllib.load(fh)
        twice = sorted(set(part) & set(merged))
        if twice:
            raise RuntimeError(f"{path.name}: message keys defined in another locale file too: {twice}")
        merged.update(part)
    return merged


def set_language(lang: str) -> None:
    """Choose the language of every later message; unknown codes fall back to vi."""
    global _language
    _language = lang if lang in LANGUAGES else "vi"


def language() -> str:
    return _language


def t(key: str, /, **params: object) -> str:
    """The message *key* in the current language, with *params* filled in."""
    texts = catalogue().get(key)
    if texts is None:  # a missing key is a bug, but never hide the data from the user
        return f"{key} {params}" if params else key
    text = texts.get(_language) or texts["vi"]
    return text.format(**params) if params else text
