"""The featured image: found by its stable name first, else uploaded once as a raw body.

The stable name is ``<post slug>-<first 12 hex of the image's sha256>``: it is
the attachment's slug and file name, so after an ambiguous failure the next
try finds the image it already uploaded instead of uploading it again (and a
name can only ever stand for the same bytes).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import PermanentError
from ..models import MediaFile

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
               ".webp": "image/webp"}


def mime(item: MediaFile) -> str | None:
    return IMAGE_TYPES.get(Path(item.name).suffix.lower())


def first_image(media: Sequence[MediaFile]) -> MediaFile | None:
    return next((m for m in media if mime(m)), None)


def stable_name(post_slug: str, item: MediaFile) -> str:
    return f"{post_slug}-{item.sha256[:12]}"


def featured(call: Callable[..., Any], item: MediaFile, path: Path, name: str, title: str) -> int:
    """The media id of *item* on the site: the one uploaded before under *name*, else a new upload."""
    kind = mime(item) or "application/octet-stream"
    for found in call("GET", "/media", params={"slug": name, "context": "edit", "_fields": "id,mime_type"}):
        if isinstance(found, dict) and found.get("mime_type") == kind:
            return int(found["id"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PermanentError(f"media {item.name}: cannot read the frozen file ({exc.strerror or exc})") from None
    filename = name + Path(item.name).suffix.lower()  # ASCII: WordPress 6.1 cannot parse RFC 5987 names
    uploaded = call("POST", "/media", data=data,
                    headers={"Content-Type": kind, "Content-Disposition": f'attachment; filename="{filename}"'},
                    # with a raw body WordPress reads the other fields from the query string
                    params={"slug": name, "title": html.escape(title, quote=False), "alt_text": title,
                            "caption": html.escape(title, quote=False)})
    return int(uploaded["id"])
