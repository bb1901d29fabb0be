"""Review of a draft: send it back to its author with a comment.

Approving is ``posts.approve``; this is the other answer an approver gives.
The post stays a draft (its author changes it, or it is approved as it is
later): only the journal changes, with a ``post.returned`` event whose actor
is the approver and whose payload holds the comment.  The latest such event
is what the author is shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from . import journal
from .errors import InputError, StateError
from .i18n import t
from .models import PostState, nfc
from .posts import _get
from .store.engine import read, write
from .store.schema import journal as journal_table

if TYPE_CHECKING:
    from .context import App

RETURNED = "post.returned"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Returned:
    """A send-back: who sent the post back, when, and why."""

    post_id: int
    actor: str
    at: datetime
    comment: str


def check_comment(comment: str, source: str = "--") -> str:
    """The comment as stored (NFC, trimmed); a blank, too long or unprintable one is refused."""
    text = nfc(comment or "").strip()
    if not text:
        raise InputError("input.required", source=source, field="comment")
    if len(text) > MAX_COMMENT:
        raise InputError("input.too_long", source=source, field="comment", length=len(text), limit=MAX_COMMENT)
    if "\x00" in text:
        raise InputError("input.bad_field", source=source, field="comment", detail="text")
    return text


def send_back(app: App, actor: str, post_id: int, comment: str, source: str = "--") -> Returned:
    """Send draft *post_id* back to its author with *comment* (journalled); the post stays a draft."""
    text = check_comment(comment, source)
    with write(app.engine) as conn:
        post = _get(conn, post_id)
        if post.state != PostState.DRAFT:
            raise StateError("post.not_draft", id=post.id, state=t(f"post_state.{post.state.value}"))
        journal.append(conn, actor, RETURNED, _subject(post_id), {"author": post.author, "comment": text})
    found = latest(app, post_id)
    assert found is not None
    return found


def latest(app: App, post_id: int) -> Returned | None:
    """The newest send-back of *post_id*, or None."""
    return latest_of(app, [post_id]).get(post_id)


def latest_of(app: App, post_ids: Iterable[int]) -> dict[int, Returned]:
    """The newest send-back of each of *post_ids* that has one."""
    subjects = {_subject(pid): pid for pid in post_ids}
    if not subjects:
        return {}
    query = (select(journal_table.c.subject, journal_table.c.actor, journal_table.c.at, journal_table.c.payload)
             .where(journal_table.c.event == RETURNED, journal_table.c.subject.in_(list(subjects)))
             .order_by(journal_table.c.seq))
    found: dict[int, Returned] = {}
    with read(app.engine) as conn:
        for r in conn.execute(query):  # in journal order: the last one of each post wins
            pid = subjects[r.subject]
            found[pid] = Returned(pid, r.actor, r.at, str(json.loads(r.payload).get("comment", "")))
    return found


def _subject(post_id: int) -> str:
    return f"post:{post_id}"
