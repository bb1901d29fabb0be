"""What the channels page and its API show: each configured channel, where its secrets come from, its hold.

A secret is named by WHERE it comes from (``token_env``: the environment
variable's name; ``token_file``: the file's path), never by its value: this
module never resolves a secret (``secrets.secret`` is not called here), so
no value can reach a page, an answer or a log through it.  The target is
what the channel publishes to: a Page id, a site's address, a folder.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException
from pydantic import BaseModel, Field

from .. import health, holds
from ..config import ChannelConfig
from ..context import App
from ..models import utcnow
from .language import Speaker

#: The option that names a channel's target, by channel type (outbox: its folder, worked out below).
TARGETS = {"facebook": "page_id", "wordpress": "base_url", "webhook": "url"}


class SecretSource(BaseModel):
    """Where one secret of a channel is read from: an environment variable or a file (never its value)."""

    secret: str = Field(description="Which secret, e.g. token, app_secret, password.")
    env: str | None = Field(description="The environment variable's name.")
    file: str | None = Field(description="The file's path.")


class HoldOut(BaseModel):
    reason: str
    actor: str
    since: datetime


class ChannelOut(BaseModel):
    """A channel as configured in config.toml, and whether an admin put it on hold."""

    name: str
    type: str = Field(description="outbox, facebook, wordpress or webhook")
    agency: str
    agency_name: str
    enabled: bool = Field(description="enabled in config.toml")
    target_kind: str | None = Field(description="page_id, base_url, url or directory")
    target: str | None = Field(description="The Page id, the site's address or the outbox folder.")
    secrets: list[SecretSource]
    max_per_hour: int | None = Field(description="Rate limit; null: none.")
    hold: HoldOut | None = Field(description="Set while the channel is on hold: its deliveries wait.")


class CheckOut(BaseModel):
    """A channel's health check, run on request."""

    channel: str
    ok: bool
    detail: str = Field(description="What the channel answered (secrets redacted).")
    expires_at: datetime | None = Field(description="When the channel's token expires, when it says.")
    checked_at: datetime


class HoldIn(BaseModel):
    reason: str = Field(description="Why (shown on the dashboard and journalled).")


def spec_of(app: App, name: str) -> ChannelConfig:
    """The configured channel *name*; a 404 for any other name."""
    found = app.config.channels.get(name)
    if found is None:
        raise HTTPException(404)
    return found


def secrets_of(spec: ChannelConfig) -> list[SecretSource]:
    """Every ``<secret>_env`` / ``<secret>_file`` option that is set: the name or path, not the secret."""
    found: dict[str, SecretSource] = {}
    for key, value in sorted(spec.options.items()):
        for suffix in ("_env", "_file"):
            if key.endswith(suffix) and isinstance(value, str) and value:
                secret = key[: -len(suffix)]
                current = found.get(secret) or SecretSource(secret=secret, env=None, file=None)
                found[secret] = current.model_copy(update={suffix[1:]: value})
    return list(found.values())


def target_of(app: App, spec: ChannelConfig) -> tuple[str | None, str | None]:
    """(kind, value) of what *spec* publishes to."""
    if spec.type == "outbox":
        return "directory", str(spec.options.get("directory") or app.data_dir / "outbox" / spec.name)
    kind = TARGETS.get(spec.type)
    value = spec.options.get(kind) if kind else None
    return kind, None if value is None else str(value)


def channel_out(app: App, spec: ChannelConfig, held: dict[str, holds.Hold]) -> ChannelOut:
    kind, target = target_of(app, spec)
    agency = app.config.agencies.get(spec.agency)
    found = held.get(spec.name)
    return ChannelOut(name=spec.name, type=spec.type, agency=spec.agency, agency_name=agency.name if agency else "",
                      enabled=spec.enabled, target_kind=kind, target=target, secrets=secrets_of(spec),
                      max_per_hour=spec.max_per_hour or None,
                      hold=HoldOut(reason=found.reason, actor=found.actor, since=found.since) if found else None)


def every_channel(app: App) -> list[ChannelOut]:
    """Every configured channel, in config.toml's order, with its hold."""
    held = holds.current(app)
    return [channel_out(app, spec, held) for spec in app.config.channels.values()]


def one_channel(app: App, name: str) -> ChannelOut:
    return channel_out(app, spec_of(app, name), holds.current(app))


def check(app: App, actor: str, name: str) -> CheckOut:
    """Run *name*'s health check now (a failure is journalled, as ``publisher channels check`` does)."""
    spec_of(app, name)
    found = health.check_all(app, actor, only=name)[0]
    return CheckOut(channel=name, ok=found.ok, detail=found.detail, expires_at=getattr(found, "expires_at", None),
                    checked_at=utcnow())


def target_label(words: Speaker, kind: str | None) -> str:
    """What the target is, in words."""
    labels = {"page_id": words.t("web.channels.target_page_id"), "base_url": words.t("web.channels.target_site"),
              "url": words.t("web.channels.target_url"), "directory": words.t("web.channels.target_directory")}
    return labels.get(kind or "", words.t("web.channels.target"))
