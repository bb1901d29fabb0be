"""The JSON API, version 1: the same operations as the pages, for scripts.

Only ``/api/v1/me`` exists in this slice.  It authenticates with the browser
session for now; token authentication for scripts comes with the first
operation a script needs (and such requests will carry no CSRF token: the
app-wide check will exempt a request authenticated by its bearer token, never
one authenticated by a cookie).  Every route declares its answer as a
pydantic model, so the OpenAPI document at ``/api/openapi.json`` describes
exactly what is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ...access import ACTIONS, User, can
from ..auth import require
from ..language import speaker

router = APIRouter(prefix="/api/v1", tags=["v1"])


class Problem(BaseModel):
    """Every refusal: a message in the caller's language (cookie ``lang``, else display.language)."""

    detail: str


class Me(BaseModel):
    """The account behind this request and what it may do."""

    id: int
    username: str
    display_name: str | None
    role: str = Field(description="editor, approver, auditor or admin")
    agency: str | None = Field(description="The agency this account serves; null: every agency.")
    password_changed_at: datetime
    language: str = Field(description="Language of messages for this client: vi or en.")
    actions: list[str] = Field(description="Every action this account may do (see access.py).")


REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "Not logged in, or the session ended."},
    403: {"model": Problem, "description": "Not allowed, or a missing or wrong CSRF token."},
}


@router.get("/me", response_model=Me, responses=REFUSALS, summary="Who am I")
def me(request: Request, user: Annotated[User, Depends(require("post.read"))]) -> Me:
    """The logged-in account (never its password hash: the User record has none)."""
    return Me(id=user.id, username=user.username, display_name=user.display_name, role=user.role.value,
              agency=user.agency, password_changed_at=user.password_changed_at,
              language=speaker(request).lang,
              actions=sorted(action for action in ACTIONS if can(user, action)))
