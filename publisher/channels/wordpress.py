"""WordPress portal channel (REST API, Application Passwords). STUB — being implemented."""

from __future__ import annotations

from datetime import datetime

from ..errors import PermanentError
from ..models import Delivery, Health, Receipt
from .base import Channel


class WordPressChannel(Channel):
    type = "wordpress"
    options = ()

    def publish(self, delivery: Delivery) -> Receipt:
        raise PermanentError("not implemented")

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        return None

    def check(self) -> Health:
        return Health(ok=False, detail="not implemented")
