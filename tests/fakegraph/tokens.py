"""Page access tokens: whose a token is, rotation and expiry, ``appsecret_proof``, ``debug_token``.

:class:`TokensMixin` is the part of :class:`~tests.fakegraph.state.GraphState`
that answers "which Page is acting, or which error does Meta give for this
token?" (Securing Requests and Access Token Debugger pages).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable

from .errors import (
    JSON,
    err_bad_proof,
    err_expired,
    err_invalid_token,
    err_permission,
    err_proof_required,
    err_session_invalidated,
    err_token_required,
    pacific_time,
)
from .records import Page

FAKE_USER_ID = "10000000000001"
DEFAULT_APP_ID = "1000000000000"


class TokensMixin:
    """Token methods of :class:`~tests.fakegraph.state.GraphState`."""

    lock: threading.RLock
    clock: Callable[[], float]
    pages: dict[str, Page]
    app_id: str | None
    app_secret: str | None
    require_appsecret_proof: bool

    def page(self, page_id: str) -> Page:
        """The page *page_id*; KeyError (listing the pages) if there is none."""
        try:
            return self.pages[str(page_id)]
        except KeyError:
            raise KeyError(f"no page {page_id!r} (pages: {sorted(self.pages)})") from None

    def rotate_token(self, page_id: str, token: str, expires_at: float | None = None) -> None:
        """Give *page_id* a new token (expiring at *expires_at*, None: never); the old one now fails with 190/460."""
        with self.lock:
            page = self.page(page_id)
            page.old_tokens.add(page.token)
            page.old_tokens.discard(token)
            page.token = token
            page.expired_at = None
            page.expires_at = None if expires_at is None else float(expires_at)
            page.issued_at = self.clock()

    def set_token_expiry(self, page_id: str, expires_at: float | None) -> None:
        """The page's current token expires at *expires_at* (unix seconds; None: never).

        A short-lived or long-lived (about 60 days) token has such a date; once
        it passes, the token fails with 190/463 like :meth:`expire_token`.
        """
        with self.lock:
            self.page(page_id).expires_at = None if expires_at is None else float(expires_at)

    def expire_token(self, page_id: str) -> None:
        """The page's current token has expired: 190/463 until rotated."""
        with self.lock:
            self.page(page_id).expired_at = self.clock() - 1

    def page_of_token(self, token: str | None) -> Page | None:
        """The page whose current token this is (valid or expired), else None."""
        if not token:
            return None
        with self.lock:
            for page in self.pages.values():
                if hmac.compare_digest(page.token, token):
                    return page
        return None

    def authenticate(self, token: str | None, proof: str | None) -> Page:
        """The page acting, or the GraphError Meta gives for this token."""
        if not token:
            raise err_token_required()
        with self.lock:
            if self.app_secret and proof is not None:
                expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, proof):
                    raise err_bad_proof()
            elif self.app_secret and self.require_appsecret_proof:
                raise err_proof_required()
            page = self.page_of_token(token)
            if page is None:
                if any(token in p.old_tokens for p in self.pages.values()):
                    raise err_session_invalidated()
                if self.app_token() == token:
                    raise err_permission("(#200) A page access token is required to request this resource.")
                raise err_invalid_token()
            expired = self.token_expired_at(page)
            if expired is not None:
                raise err_expired(expired, self.clock())
            return page

    def token_expired_at(self, page: Page) -> float | None:
        """When the page's current token expired, or None while it is valid."""
        if page.expired_at is not None:
            return page.expired_at
        if page.expires_at is not None and page.expires_at <= self.clock():
            return page.expires_at
        return None

    def app_token(self) -> str | None:
        """The app access token ``{app_id}|{app_secret}``, if both are set."""
        return f"{self.app_id}|{self.app_secret}" if self.app_id and self.app_secret else None

    def debug_token(self, input_token: str) -> JSON:
        """``GET /debug_token``: what Meta says about *input_token*."""
        with self.lock:
            page = self.page_of_token(input_token)
            if page is None:
                error: JSON = {"code": 190, "message": "Invalid OAuth access token."}
                if any(input_token in p.old_tokens for p in self.pages.values()):
                    error = {"code": 190, "subcode": 460, "message": err_session_invalidated().message}
                return {"data": {"error": error, "is_valid": False, "scopes": []}}
            data: JSON = {
                "app_id": self.app_id or DEFAULT_APP_ID, "type": "PAGE", "application": "publisher (fake)",
                # data access lasts 90 days from when the token was issued; expires_at 0 means never
                "data_access_expires_at": int(page.issued_at + 90 * 86400),
                "expires_at": int(page.expires_at) if page.expires_at is not None else 0, "is_valid": True,
                "issued_at": int(page.issued_at), "profile_id": page.id, "scopes": list(page.scopes),
                "granular_scopes": [{"scope": s, "target_ids": [page.id]}
                                    for s in page.scopes if s.startswith("pages_")],
                "user_id": FAKE_USER_ID,
            }
            expired = self.token_expired_at(page)
            if expired is not None:
                data.update(is_valid=False, expires_at=int(expired),
                            error={"code": 190, "subcode": 463,
                                   "message": f"Session has expired on {pacific_time(expired)}."})
            return {"data": data}
