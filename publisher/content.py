"""Turning a post into what each channel publishes.

Text comes from the post's template, in the channel's format; infographics
are drawn once per post from the policy (title, key points, who is affected,
how and until when to comment, agency and logo, QR code to the draft page)
and stored by content hash; each channel then gets the media its rules allow
(Facebook: JPEG/PNG ≤ 4 MB — a converted copy, the original is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import media
from .models import Content, MediaFile, Policy, utcnow
from .render import infographic, media_rules
from .render import text as render_text

if TYPE_CHECKING:
    from .context import App


@dataclass(frozen=True)
class Draft:
    """The parts of a post that decide its content."""

    template: str
    variables: dict[str, Any]
    channels: tuple[str, ...]
    infographics: tuple[str, ...] = ()
    media: tuple[MediaFile, ...] = ()
    publish_at: datetime | None = None  # "còn 3 ngày" counts from the day the post goes out


def context(app: App, policy: Policy, draft: Draft, channel: str) -> dict[str, Any]:
    agency = app.config.agencies[policy.agency]
    # frozen at approval but read on the day it is published: count days from that day
    today = max(draft.publish_at or utcnow(), utcnow()).astimezone(app.config.timezone).date()
    variables = draft.variables
    return {**variables, "policy": asdict(policy), "channel": channel, "today": today,
            "agency": {"code": agency.code, "name": agency.name}}


def text(app: App, policy: Policy, draft: Draft, channel: str) -> tuple[str, str]:
    fmt = app.config.channels[channel].format
    return render_text.render(app.config.template_dirs, draft.template, fmt,
                              context(app, policy, draft, channel))


def infographic_data(app: App, policy: Policy) -> infographic.InfographicData:
    agency = app.config.agencies[policy.agency]
    closes = policy.consultation_closes
    return infographic.InfographicData(
        title=policy.title, points=policy.key_points, affected=policy.affected or "",
        how_to_comment=policy.comment_how or "",
        deadline=f"Góp ý đến hết {render_text.vn_date(closes)}" if closes else "",
        agency=agency.name, logo=Path(agency.logo) if agency.logo else None, qr_url=policy.draft_url)


def draw(app: App, policy: Policy, layouts: Sequence[str]) -> list[tuple[str, bytes]]:
    """Each layout drawn for *policy*, as ``(file name, PNG bytes)``."""
    data = infographic_data(app, policy)
    return [(image_name(policy, name), infographic.render(app.config.template_dirs, name, data, "png"))
            for name in layouts]


def image_name(policy: Policy, layout: str) -> str:
    """The file name of *policy*'s infographic in *layout* (the code's slashes would make folders)."""
    return f"{policy.code.replace('/', '-')}-{layout}.png"


def check(app: App, policy: Policy, draft: Draft, attachments: Sequence[Path] = ()) -> None:
    """Render everything once and keep nothing: a mistake shows when the post is written."""
    for channel in draft.channels:
        text(app, policy, draft, channel)
        rules = media_rules.RULES.get(app.config.channels[channel].format)
        for path in attachments:
            media_rules.adapt(path.read_bytes(), path.name, rules)
    draw(app, policy, draft.infographics)


def build(app: App, policy: Policy, draft: Draft) -> dict[str, Content]:
    """The frozen content of every channel: text, then attachments and infographics."""
    drawn = [media.freeze_bytes(app.data_dir, data, name) for name, data in draw(app, policy, draft.infographics)]
    originals = (*draft.media, *drawn)
    out = {}
    for channel in draft.channels:
        title, body = text(app, policy, draft, channel)
        rules = media_rules.RULES.get(app.config.channels[channel].format)
        out[channel] = Content(title=title, body=body, media=tuple(_adapted(app, m, rules) for m in originals))
    return out


def _adapted(app: App, item: MediaFile, rules: media_rules.MediaRules | None) -> MediaFile:
    converted = media_rules.adapt(media.read(app.data_dir, item), item.name, rules) if rules else None
    if converted is None:
        return item
    data, suffix = converted
    return media.freeze_bytes(app.data_dir, data, Path(item.name).stem + suffix)
