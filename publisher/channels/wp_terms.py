"""Slugs, and WordPress categories and tags resolved by slug.

A term is looked up by its slug first (one request per taxonomy); a missing
one is created by name, and if WordPress answers ``term_exists`` (the name is
taken under another slug) the existing term (``data.term_id``) is adopted.
Creating a term twice after an ambiguous failure is therefore harmless.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ContentRejected
from ..models import Delivery

Call = Callable[..., Any]
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """ASCII slug: Vietnamese transliterated (NFD, marks dropped, đ → d), lower case, '-' between words."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _NOT_ALNUM.sub("-", text).strip("-")


def post_slug(delivery: Delivery) -> str:
    """The deterministic slug of a delivery's post: policy code + delivery id, e.g. ``06-kh-ubnd-d42``."""
    code = slugify(delivery.policy_code)[:180].strip("-")
    return f"{code}-d{delivery.id}" if code else f"d{delivery.id}"


def resolve(call: Call, taxonomy: str, names: Sequence[str]) -> list[int]:
    """Ids of the terms *names* of *taxonomy* (``categories`` or ``tags``), created when missing."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(slugify(name), name.strip())
    if not wanted:
        return []
    found = call("GET", f"/{taxonomy}", params={"slug": ",".join(wanted), "per_page": "100", "_fields": "id,slug"})
    ids = {str(t.get("slug")): int(t["id"]) for t in found if isinstance(t, dict) and "id" in t}
    for slug, name in wanted.items():
        if slug not in ids:
            ids[slug] = _create(call, taxonomy, name)
    return [ids[slug] for slug in wanted]


def _create(call: Call, taxonomy: str, name: str) -> int:
    # by name only: WordPress derives the same slug (remove_accents), and answers term_exists for a name
    # already there under another slug instead of creating a duplicate
    try:
        return int(call("POST", f"/{taxonomy}", json={"name": name})["id"])
    except ContentRejected as exc:
        term_id = (getattr(exc, "wp_data", None) or {}).get("term_id")
        if getattr(exc, "wp_code", None) == "term_exists" and isinstance(term_id, int):
            return term_id
        raise
