"""API tokens: how a script calls the JSON API as one account, without a password or a browser.

A token is ``pub_`` and 40 random URL-safe characters (240 bits).  It is shown
once, when it is made, and never again: the database keeps only its sha256
(a token is random, so a plain hash is enough; no salt or slow hash is needed
as for a password), with the account it acts as, a label, when it was made,
when it expires, when it was last used and when it was revoked.  Nothing
here logs, journals or returns the token after :func:`create`.

A token acts as its account with that account's role (``access.can``): a
disabled account's tokens stop working at once, and so do a revoked or
expired token.  The web face accepts a token on ``/api/`` only
(``Authorization: Bearer <token>``); pages never do.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from . import journal
from .accounts import get_user, user_from_row
from .errors import InputError, NotFound, StateError
from .models import nfc, utcnow
from .store.engine import read, write
from .store.schema import api_tokens, users

if TYPE_CHECKING:
    from .access import User
    from .context import App

PREFIX = "pub_"
#: Random bytes of a token: 30 bytes are 40 URL-safe characters.
RANDOM_BYTES = 30
#: Longer than any token we make: refused before hashing or reaching the database.
MAX_TOKEN = 200
MAX_LABEL = 200
DEFAULT_DAYS = 90
MAX_DAYS = 3650
#: last_used_at is written at most this often per token, so a busy script does not write on every call.
TOUCH_SECONDS = 60
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Token:
    """A token as listed: everything but the secret (which is not stored at all)."""

    id: int
    username: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


def digest(token: str) -> str:
    """The stored form of *token*: hex sha256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    return text.startswith(PREFIX) and len(text) <= MAX_TOKEN and text.isascii() and text.isprintable()


def check_label(label: str | None) -> str | None:
    shown = nfc(label or "").strip()
    if len(shown) > MAX_LABEL or not shown.isprintable():
        raise InputError("token.bad_label", maximum=MAX_LABEL)
    return shown or None


def check_days(days: int | None) -> int:
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise InputError("token.bad_days", value=days, maximum=MAX_DAYS)
    return days


def create(app: App, actor: str, username: str, *, label: str | None = None,
           days: int | None = None) -> tuple[Token, str]:
    """A new token for *username*, valid *days* days (default 90); returns it with its secret, the only copy."""
    label, days = check_label(label), check_days(days)
    owner = get_user(app, username)
    if owner.disabled_at is not None:
        raise StateError("token.user_disabled", username=owner.username)
    secret = PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    now = utcnow()
    expires = now + timedelta(days=days)
    with write(app.engine) as conn:
        new_id = conn.execute(insert(api_tokens).values(
            user_id=owner.id, label=label, token_sha256=digest(secret), created_at=now,
            expires_at=expires)).inserted_primary_key[0]
        journal.append(conn, actor, "token.created", f"user:{owner.username}",  # no secret, not even its hash
                       {"token_id": new_id, "label": label, "expires_at": expires.isoformat()})
        return _get(conn, new_id), secret


def list_tokens(app: App, username: str) -> list[Token]:
    """Every token of *username* (revoked and expired ones too), oldest first."""
    owner = get_user(app, username)
    with read(app.engine) as conn:
        rows = conn.execute(_select().where(api_tokens.c.user_id == owner.id).order_by(api_tokens.c.id))
        return [_token(r) for r in rows]


def revoke(app: App, actor: str, token_id: int) -> Token:
    """Stop token *token_id* for good (it cannot be brought back: make a new one)."""
    if not 1 <= token_id <= MAX_ID:  # names nothing (and must not reach PostgreSQL's 32-bit column)
        raise NotFound("token.not_found", id=token_id)
    with write(app.engine) as conn:
        found = _get(conn, token_id)
        if found.revoked_at is not None:
            raise StateError("token.already_revoked", id=token_id)
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=utcnow()))
        journal.append(conn, actor, "token.revoked", f"user:{found.username}", {"token_id": token_id})
        return _get(conn, token_id)


def authenticate(app: App, token: str) -> User | None:
    """The active account *token* acts as; None for an unknown, revoked or expired token or a disabled account."""
    if not looks_like_token(token):
        return None
    query = (select(users, api_tokens.c.id.label("token_id"), api_tokens.c.expires_at,
                    api_tokens.c.revoked_at, api_tokens.c.last_used_at)
             .join(users, users.c.id == api_tokens.c.user_id)
             .where(api_tokens.c.token_sha256 == digest(token)))
    with read(app.engine) as conn:
        row = conn.execute(query).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.disabled_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_SECONDS:
        with write(app.engine) as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=now))
    return user_from_row(row)


def _select() -> Any:
    return select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)


def _get(conn: Connection, token_id: int) -> Token:
    row = conn.execute(_select().where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise NotFound("token.not_found", id=token_id)
    return _token(row)


def _token(row: Any) -> Token:
    return Token(id=row.id, username=row.username, label=row.label, created_at=row.created_at,
                 expires_at=row.expires_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at)
