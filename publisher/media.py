"""Frozen media files: content-addressed copies under ``<data_dir>/media``.

A file attached to a post is copied once, named by its sha256, and never
written again; publishing checks the hash, so the image the approver saw is
the image that goes out, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import InputError
from .models import MediaFile

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check(source: Path) -> None:
    """Refuse a media file that is not there (before anything is written)."""
    if not source.is_file():
        raise InputError("input.media_missing", path=str(source))


def freeze(data_dir: Path, source: Path) -> MediaFile:
    """Copy *source* into the media store; returns its frozen record."""
    check(source)
    sha = file_sha256(source)
    relative = Path("media") / sha[:2] / f"{sha}{source.suffix.lower()}"
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return MediaFile(name=source.name, path=relative.as_posix(), sha256=sha)


def intact(data_dir: Path, item: MediaFile) -> bool:
    """Whether a frozen file is still there, unchanged."""
    path = data_dir / item.path
    return path.is_file() and file_sha256(path) == item.sha256
