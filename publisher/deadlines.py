"""The default deadline of every kind of post: nothing is published uselessly late.

A post's kind is its campaign moment or, for a post written by hand, the
moment whose template it uses (``campaign.<moment>_template``); any other
template is general information.  Without a deadline of its own a post gets:

- an invitation to comment (``opens``) or a reminder: the end of the day the
  consultation closes (local time) -- after that it would mislead;
- news that the document was passed or issued: ``campaign.news_deadline_days``
  after its time;
- anything else: ``posts.deadline_days`` after its time.

A delivery still queued at its deadline is failed with that reason.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING

from .models import Policy

if TYPE_CHECKING:
    from .context import App

MOMENTS = ("opens", "reminder", "passed", "issued")
_END_OF_DAY = time(23, 59, 59)


def kind(app: App, template: str, moment: str | None = None) -> str | None:
    """The campaign moment a post serves (by its moment, else by its template), or None."""
    if moment:
        return moment
    return next((m for m in MOMENTS if app.config.campaign[f"{m}_template"] == template), None)


def default(app: App, policy: Policy, publish_at: datetime, template: str, moment: str | None = None) -> datetime:
    """The deadline a post gets when it names none (aware UTC)."""
    serves = kind(app, template, moment)
    closes = consultation_end(app, policy)
    if serves in ("opens", "reminder") and closes is not None:
        return closes
    days = app.config.campaign["news_deadline_days"] if serves in ("passed", "issued") \
        else app.config.posts["deadline_days"]
    return publish_at + timedelta(days=days)


def consultation_end(app: App, policy: Policy) -> datetime | None:
    """The last second of the consultation, local time, as aware UTC (None without a closing date)."""
    if policy.consultation_closes is None:
        return None
    return datetime.combine(policy.consultation_closes, _END_OF_DAY, app.config.timezone).astimezone(timezone.utc)
