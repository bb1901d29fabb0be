"""Generic webhook channel (signed JSON POST). STUB — being implemented."""

from __future__ import annotations

from datetime import datetime

from ..errors import PermanentError
from ..models import Delivery, Health, Receipt
from .base import Channel


class WebhookChannel(Channel):
    type = "webhook"
    options = ()

    def publish(self, delivery: Delivery) -> Receipt:
        raise PermanentError("not implemented")

    def find(self, delivery: Delivery, since: datetime | None) -> Receipt | None:
        return None

    def check(self) -> Health:
        return Health(ok=False, detail="not implemented")
