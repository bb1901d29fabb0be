"""Sessions in a signed cookie: who is logged in, and the CSRF token of their forms.

The cookie holds nothing to trust without its signature (itsdangerous,
HMAC-SHA1 over a key derived from the web secret, with a timestamp): the
user's id and name, when their password last changed (a new password ends
every older session), the CSRF token, and the session's id, whose sha256 is
on record in the database until logout (``session_store``: a copied cookie
dies with the session).  It is HttpOnly (no
script reads it), SameSite=Strict (no other site's page sends it), Secure
on https, and expires ``web.session_hours`` after it was signed.  It is
signed only at login, so a session cannot be stretched by using it.

A visitor who has not logged in gets a *pre-session*: no user, only a CSRF
token, so that the login form is protected like every other form.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..access import User
from . import session_store

COOKIE = "publisher_session"
_SALT = "publisher.web.session"  # keeps these signatures apart from any other use of the secret


@dataclass(frozen=True)
class Session:
    """What the cookie says; ``user_id`` is None in a pre-session."""

    csrf: str
    user_id: int | None = None
    username: str | None = None
    password_changed: str | None = None  # ISO time: a later password change ends this session
    sid: str | None = None  # the session's id on record (session_store); None in a pre-session


def anonymous() -> Session:
    """A fresh pre-session: a CSRF token for the login form, nobody logged in."""
    return Session(csrf=secrets.token_urlsafe(32))


def for_user(user: User) -> Session:
    """A new session for *user*, with a new CSRF token (nothing carries over from before login)."""
    return Session(csrf=secrets.token_urlsafe(32), user_id=user.id, username=user.username,
                   password_changed=user.password_changed_at.isoformat(), sid=session_store.new_sid())


class SessionCodec:
    """Signs sessions into cookies and reads them back (expired or forged: no session)."""

    def __init__(self, secret: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.max_age = max_age

    def read(self, request: Request) -> Session | None:
        """The request's valid session, or None (absent, forged, expired or malformed)."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
            return Session(**data)
        except (BadSignature, TypeError):  # SignatureExpired is a BadSignature; TypeError: unknown fields
            return None

    def write(self, response: Response, request: Request, session: Session) -> None:
        """Set the cookie on *response*; Secure whenever the browser reached us over https."""
        response.set_cookie(COOKIE, self._serializer.dumps(asdict(session)), max_age=self.max_age,
                            path="/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")

    def clear(self, response: Response, request: Request) -> None:
        """Remove the cookie (logout, or an account that is no longer allowed in)."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")


def session_of(request: Request) -> Session | None:
    """The request's session as read once by :func:`publisher.web.auth.current_session`."""
    found = getattr(request.state, "session", None)
    return found if isinstance(found, Session) else None
