"""Sessions on record: a logout ends a session for good, even for a copy of its cookie.

The signed cookie alone cannot be taken back: whoever copied it (a shared
computer, a stolen backup of a browser profile) could use it until it
expires.  So each login also writes a row of ``web_sessions`` keyed by the
sha256 of a random session id that only the cookie holds; every request
checks that its row is still open, and logout closes it.  The database never
holds the id itself, so reading the table does not let anyone in.

Rows of sessions that expired more than a day ago are deleted at each login
(the table stays as small as the number of people logged in).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from ..access import User
from ..account_changes import user_from_row
from ..models import utcnow
from ..store.engine import read, write
from ..store.schema import users, web_sessions

if TYPE_CHECKING:
    from ..context import App

KEEP_EXPIRED = timedelta(days=1)


def new_sid() -> str:
    """A fresh session id for a cookie (256 random bits)."""
    return secrets.token_urlsafe(32)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def open_session(app: App, sid: str, user_id: int, seconds: int) -> None:
    """Record a new session of *user_id* that ends after *seconds* at the latest."""
    now = utcnow()
    with write(app.engine) as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now - KEEP_EXPIRED))
        conn.execute(insert(web_sessions).values(sid_sha256=_digest(sid), user_id=user_id, created_at=now,
                                                 expires_at=now + timedelta(seconds=seconds)))


def user_of(app: App, sid: str) -> User | None:
    """The account of session *sid* if it is on record, not ended and not expired; else None.

    One query for both (every request asks): the session's record joined to its account.
    """
    query = (select(users).join(web_sessions, web_sessions.c.user_id == users.c.id)
             .where(web_sessions.c.sid_sha256 == _digest(sid), web_sessions.c.ended_at.is_(None),
                    web_sessions.c.expires_at > utcnow()))
    with read(app.engine) as conn:
        row = conn.execute(query).first()
    return None if row is None else user_from_row(row)


def end(app: App, sid: str) -> None:
    """Close session *sid* (logout); closing an unknown or closed one does nothing."""
    with write(app.engine) as conn:
        conn.execute(update(web_sessions).where(web_sessions.c.sid_sha256 == _digest(sid),
                                                web_sessions.c.ended_at.is_(None)).values(ended_at=utcnow()))
