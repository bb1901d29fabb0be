"""The compose API's models: a post to preview or save, the preview, a refusal, the draft created.

The API (``POST /api/v1/compose/preview`` and ``POST /api/v1/posts``) takes
the same input as the compose form and answers what the page shows: each
channel's text, each infographic, and every error with the field it is about.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .policy_lookup import MAX_ID

TIME_HELP = "In display.timezone: DD/MM/YYYY HH:MM, YYYY-MM-DD HH:MM, ISO 8601, or 'now'."


class ComposeRequest(BaseModel):
    """A post to preview or to save as a draft."""

    policy: int = Field(ge=1, le=MAX_ID, description="The policy's id (see /api/v1/policies).")
    template: str | None = Field(None, max_length=100, description="A post template; default: templates.default.")
    channels: list[str] = Field(default_factory=list, max_length=50,
                                description="Channels of the policy's agency; empty: all its enabled channels.")
    infographics: list[str] = Field(default_factory=list, max_length=10, description="Infographic layouts.")
    at: str | None = Field(None, max_length=40, description="When it goes out. " + TIME_HELP)
    deadline: str | None = Field(None, max_length=40, description="Not published after this. " + TIME_HELP)
    variables: dict[str, str] = Field(default_factory=dict, description="The template's variables.")


class ChannelPreview(BaseModel):
    channel: str
    title: str
    body: str


class ImagePreview(BaseModel):
    layout: str
    name: str
    png_base64: str = Field(description="The PNG image, base64-encoded.")


class FieldError(BaseModel):
    field: str = Field(description="policy, template, channels, infographics, at, deadline or var_<name>.")
    detail: str


class ComposePreview(BaseModel):
    """What each channel would publish and each infographic; errors name their field."""

    texts: list[ChannelPreview]
    images: list[ImagePreview]
    errors: list[FieldError]


class Refused(BaseModel):
    """Input refused: the message, and the field it names (null: the whole request)."""

    detail: str
    field: str | None = None


class PostCreated(BaseModel):
    """The draft created, awaiting approval."""

    id: int
    state: str
    policy: int
    template: str
    channels: list[str]
    infographics: list[str]
    publish_at: datetime
    deadline_at: datetime | None
    author: str
    url: str = Field(description="The draft's page.")
