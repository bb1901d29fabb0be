"""Channel kinds by their config ``type``; adding a kind is one line here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Channel
from .facebook import FacebookChannel
from .outbox import OutboxChannel
from .webhook import WebhookChannel
from .wordpress import WordPressChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    OutboxChannel.type: OutboxChannel,
    FacebookChannel.type: FacebookChannel,
    WordPressChannel.type: WordPressChannel,
    WebhookChannel.type: WebhookChannel,
}


def build(name: str, kind: str, options: dict[str, Any], data_dir: Path) -> Channel:
    return CHANNEL_TYPES[kind](name, options, data_dir)
