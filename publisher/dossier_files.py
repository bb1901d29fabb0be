"""The files of a dossier, and the ZIP that holds them.

``dossier.json`` (when, by whom, the journal head, missing media),
``policy.json``, ``posts.json``, ``receipts.json``, ``approvals.json`` and
``journal.json`` keep times in UTC and the journal entries exactly as stored,
so every hash can be recomputed; ``texts/delivery-<id>/`` holds each approved
title and body byte for byte, ``media/`` the frozen images, ``index.html`` the
same for a person (display time zone), and ``SHA256SUMS`` every other file.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import media
from .errors import InputError
from .i18n import language, t
from .models import MediaFile, nfc

if TYPE_CHECKING:
    from .context import App
    from .dossier import Evidence

_TEMPLATES = Path(__file__).parent / "reports_html"
_TEXT_ONLY = ("title", "body", "media")  # kept in posts.json and texts/, not repeated in receipts.json
_LINKABLE = ("http", "https", "file")  # never a javascript: link, whatever a channel returned


@dataclass(frozen=True)
class Written:
    """A dossier on disk: where, how much, and which frozen images it had to leave out."""

    path: Path
    posts: int
    entries: int
    missing: tuple[str, ...]  # data-folder paths of media missing or changed


def write(app: App, evidence: Evidence, target: Path) -> Written:
    """Build the ZIP under a temporary name beside *target*, then rename it: whole or nothing."""
    missing = missing_media(app.data_dir, evidence)
    html = render_index(evidence, missing, app.config.timezone)
    stamp = evidence.exported_at.astimezone(app.config.timezone).timetuple()[:6]
    try:
        _atomic(target, _files(app.data_dir, evidence, missing, html), stamp)
    except OSError as exc:
        raise InputError("input.cannot_write", path=str(target), detail=exc.strerror or str(exc)) from None
    return Written(target, len(evidence.posts), len(evidence.journal), tuple(missing))


def _atomic(target: Path, files: Iterator[tuple[str, bytes]], stamp: tuple[int, ...]) -> None:
    # a unique name in the destination folder: the rename cannot cross file systems,
    # and two exports at once never write into each other's file
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("xb") as fh:
            _pack(fh, files, stamp)
            fh.flush()
            os.fsync(fh.fileno())  # the rename must not publish a file the disk does not hold yet
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # a no-op once renamed


def missing_media(data_dir: Path, evidence: Evidence) -> list[str]:
    """Frozen images no longer in the data folder, or no longer matching their sha256.

    They are noted in the dossier rather than refused with an error: an
    inspection still needs the texts, receipts and journal when an image is
    lost, and the loss is itself a finding to show.  The command names each
    file and exits 1, so a scheduled export does not hide it either.
    """
    return sorted(m["stored_as"] for m in _media(evidence).values()
                  if not media.intact(data_dir, MediaFile(m["name"], m["stored_as"], m["sha256"])))


def _media(evidence: Evidence) -> dict[str, dict[str, str]]:
    found = [m for p in evidence.posts for m in p["media"]] + [m for r in evidence.receipts for m in r["media"]]
    return {m["file"]: m for m in found}


def _files(data_dir: Path, ev: Evidence, missing: list[str], html: str) -> Iterator[tuple[str, bytes]]:
    yield "index.html", html.encode("utf-8")
    for name, value in _records(ev, missing).items():
        yield name, (json.dumps(value, ensure_ascii=False, indent=2, default=_iso) + "\n").encode("utf-8")
    for r in ev.receipts:
        yield f"texts/delivery-{r['id']}/title.txt", r["title"].encode("utf-8")
        yield f"texts/delivery-{r['id']}/body.txt", r["body"].encode("utf-8")
    for m in _media(ev).values():
        if m["stored_as"] not in missing:  # read one at a time: images need not all fit in memory
            yield m["file"], (data_dir / m["stored_as"]).read_bytes()


def _records(ev: Evidence, missing: list[str]) -> dict[str, Any]:
    about = {"exported_at": ev.exported_at, "exported_by": ev.exported_by, "program": _version(),
             "journal_head": ev.head, "missing_media": missing, "times": "UTC (ISO 8601)"}
    return {"dossier.json": about, "policy.json": asdict(ev.policy), "posts.json": ev.posts,
            "receipts.json": [{k: v for k, v in r.items() if k not in _TEXT_ONLY} for r in ev.receipts],
            "approvals.json": ev.approvals, "journal.json": {"head": ev.head, "entries": ev.journal}}


def _pack(fh: IO[bytes], files: Iterator[tuple[str, bytes]], stamp: tuple[int, ...]) -> None:
    sums = []
    with zipfile.ZipFile(fh, "w") as archive:
        for name, data in files:
            archive.writestr(_entry(name, stamp), data)
            sums.append(f"{media.sha256_bytes(data)}  {name}\n")  # the format `sha256sum -c` reads
        archive.writestr(_entry("SHA256SUMS", stamp), "".join(sums))


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # unzip gives readable files, not mode 000
    return info


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def _version() -> str:
    try:
        return f"publisher {version('publisher')}"
    except PackageNotFoundError:
        return "publisher"


@cache
def _env() -> Environment:
    # autoescape for every template: names end in .j2, which select_autoescape would not match
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["t"] = t
    return env


def render_index(ev: Evidence, missing: list[str], zone: ZoneInfo) -> str:
    """index.html: self-contained (inline CSS, no script), texts escaped, times in *zone*."""
    page = _env().get_template("dossier.html.j2").render(
        ev=ev, missing=missing, lang=language(), zone=zone.key, when=partial(_when, zone=zone),
        link=_link, pretty=_pretty)
    return nfc(page)


def _when(value: datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _link(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme.lower() in _LINKABLE else None


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=_iso)
