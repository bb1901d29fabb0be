"""Small builders shared by the tests (real library calls, no fakes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from publisher import posts, service
from publisher.context import App
from publisher.models import utcnow

from .conftest import POLICY


def add_policy(app: App, code: str = POLICY["code"], agency: str = "tinh", **extra: Any) -> Any:
    return service.add_policy(app, "bien-tap", {**POLICY, "code": code, "agency": agency, **extra})


def approved_post(app: App, channels: tuple[str, ...] = ("portal", "fanpage"), at: datetime | None = None,
                  code: str = POLICY["code"], **extra: Any) -> list[int]:
    """A post written by 'bien-tap', approved by 'truong-phong'; returns delivery ids."""
    when = (at or utcnow() - timedelta(seconds=1)).isoformat()
    post = posts.new_post(app, "bien-tap", {"policy": code, "agency": "tinh", "channels": list(channels),
                                            "at": when, **extra})
    return posts.approve(app, "truong-phong", post.id)


def write_png(path, size=(16, 16), color=(200, 30, 30)):
    """A real PNG image file (Pillow), so media rules can read it."""
    from PIL import Image

    Image.new("RGB", size, color).save(path, "PNG")
    return path


class Clock:
    """A clock the test moves (the dispatcher, channels and fakes take it instead of sleeping)."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def unix(self):
        return self.now.timestamp()


def delivery(app: App, did: int) -> Any:
    from publisher.store import deliveries as store
    from publisher.store.engine import read

    with read(app.engine) as conn:
        return store.get(conn, did)


def outcomes(app: App, did: int) -> list[str]:
    """The outcomes of a delivery's attempts, in order."""
    from sqlalchemy import select

    from publisher.store.engine import read
    from publisher.store.schema import attempts

    with read(app.engine) as conn:
        return list(conn.execute(select(attempts.c.outcome).where(attempts.c.delivery_id == did)
                                 .order_by(attempts.c.id)).scalars())
