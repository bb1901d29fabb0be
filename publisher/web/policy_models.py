"""The policies API's models: a policy as stored, the fields a change or a new policy gives, the refusal.

Dates come in as text (``DD/MM/YYYY`` or ``YYYY-MM-DD``) and are read by
``inputs.py`` like the CLI's, so the API and the form refuse the same values
with the same messages.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from ..campaign import Step
from ..models import Policy

DATE_HELP = "A date, DD/MM/YYYY or YYYY-MM-DD."


class PolicyOut(BaseModel):
    """A policy as stored."""

    id: int
    agency: str
    code: str
    title: str
    summary: str
    impact: str = Field(description="high or normal")
    consultation_opens: date | None
    consultation_closes: date | None
    passed_on: date | None
    issued_on: date | None
    draft_url: str | None
    key_points: list[str]
    affected: str | None
    comment_how: str | None
    created_by: str
    created_at: datetime | None

    @classmethod
    def of(cls, policy: Policy) -> PolicyOut:
        values = asdict(policy)
        values.update(impact=policy.impact.value, key_points=list(policy.key_points))
        return cls(**values)


class PolicyEdit(BaseModel):
    """The fields a change may give; a field left out keeps its value (null clears an optional one)."""

    title: str | None = None
    summary: str | None = None
    impact: str | None = Field(None, description="high or normal")
    consultation_opens: str | None = Field(None, description=DATE_HELP)
    consultation_closes: str | None = Field(None, description=DATE_HELP)
    passed_on: str | None = Field(None, description=DATE_HELP)
    issued_on: str | None = Field(None, description=DATE_HELP)
    draft_url: str | None = Field(None, description="http:// or https:// address of the draft and comment page.")
    key_points: list[str] | None = Field(None, description="At most 5 short sentences.")
    affected: str | None = None
    comment_how: str | None = None


class PolicyNew(PolicyEdit):
    """A new policy: code, title and summary are required; agency when several are configured."""

    agency: str | None = Field(None, description="Agency code; an agency-bound account may name only its own.")
    code: str = Field(description="Number and symbol of the document, e.g. 12/2026/NQ-HĐND.")
    title: str = Field(description="Title (at most 200 characters).")
    summary: str = Field(description="Summary.")


class InvalidInput(BaseModel):
    """Input the library refused: the message, and the field it names (null: the whole request)."""

    detail: str
    field: str | None


class CampaignStep(BaseModel):
    """One moment of the campaign and what planning did with it."""

    moment: str = Field(description="opens, reminder, passed or issued")
    action: str = Field(description="created, replanned, unchanged, approved, missed or no_date")
    post_id: int | None
    at: datetime | None = Field(description="When the post goes out, in display.timezone.")

    @classmethod
    def of(cls, step: Step, zone: ZoneInfo) -> CampaignStep:
        return cls(moment=step.moment, action=step.action, post_id=step.post_id,
                   at=step.at.astimezone(zone) if step.at else None)


class PolicyChanged(BaseModel):
    """A policy after a change, the fields that changed, and the campaign re-planned because of them."""

    policy: PolicyOut
    changed: list[str]
    campaign: list[CampaignStep]
