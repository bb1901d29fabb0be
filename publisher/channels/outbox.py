"""The embedded default channel: publish by writing files.

Each published delivery becomes ``<dir>/<delivery-id>.json`` plus its media in
``<dir>/<delivery-id>/``, so a fresh install works end to end with no account
anywhere (like a mail library's file backend).  The JSON file is written to a
temporary name, flushed and renamed: it appears whole or not at all, and it is
the commit point, so ``find()`` after a crash sees exactly what was published.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from ..errors import TransientError
from ..models import Delivery, Health, Receipt, Setting, utcnow
from .base import Channel


class OutboxChannel(Channel):
    type = "outbox"
    options = (
        Setting("directory", str, "", "Outbox folder; empty means <data_dir>/outbox/<channel name>.", is_path=True),
    )

    @property
    def folder(self) -> Path:
        configured = self.settings.get("directory")
        return Path(configured) if configured else self.data_dir / "outbox" / self.name

    def _record_path(self, delivery: Delivery) -> Path:
        return self.folder / f"{delivery.id}.json"

    def publish(self, delivery: Delivery) -> Receipt:
        try:
            media = self._copy_media(delivery)
            record = self._record(delivery, media)
            _atomic_write(self._record_path(delivery), json.dumps(record, ensure_ascii=False, indent=2))
        except OSError as exc:  # disk full, permissions: nothing was committed
            raise TransientError(f"outbox {self.folder}: {exc.strerror or exc}") from None
        return self._receipt(delivery)

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        path = self._record_path(delivery)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise TransientError(f"outbox {path}: {exc}") from None
        if record.get("content_sha256") != delivery.content_sha256:
            return None  # not ours (a reused folder): publish again under our content
        return self._receipt(delivery)

    def check(self) -> Health:
        folder = self.folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".check-", delete=True)
            probe.close()
        except OSError as exc:
            return Health(ok=False, detail=f"{folder}: {exc.strerror or exc}")
        return Health(ok=True, detail=str(folder))

    def _receipt(self, delivery: Delivery) -> Receipt:
        path = self._record_path(delivery).resolve()
        return Receipt(remote_id=f"outbox:{self.name}:{delivery.id}", permalink=path.as_uri())

    def _copy_media(self, delivery: Delivery) -> list[str]:
        if not delivery.content.media:
            return []
        target = self.folder / str(delivery.id)
        target.mkdir(parents=True, exist_ok=True)
        names = []
        for item in delivery.content.media:
            name = f"{item.sha256[:12]}-{Path(item.name).name}"
            shutil.copyfile(self.media_path(item.path), target / name)
            names.append(f"{delivery.id}/{name}")
        return names

    def _record(self, delivery: Delivery, media: list[str]) -> dict[str, object]:
        return {
            "delivery_id": delivery.id,
            "channel": self.name,
            "policy": delivery.policy_code,
            "title": delivery.content.title,
            "body": delivery.content.body,
            "media": media,
            "content_sha256": delivery.content_sha256,
            "published_at": utcnow().isoformat(),
        }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
