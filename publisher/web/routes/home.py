"""The dashboard and the language switch.

The dashboard: what goes out today and this week, failures that need a
person, the channels' health and the year's coverage against the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from ... import i18n
from ...access import User, can
from .. import audit_report, dashboard_data
from ..auth import require
from ..language import LANG_COOKIE, LANG_COOKIE_SECONDS, speaker
from ..security import safe_next
from ..templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class PageLink:
    """One page of the web UI: its label key is ``web.page.<key>``; shown to who may do *action*."""

    key: str
    href: str
    action: str
    ready: bool = False  # False: announced on the dashboard, built by a later slice


#: The pages of issue 8, in the order staff use them.
PAGES = (
    PageLink("policies", "/policies", "post.read", ready=True),
    PageLink("compose", "/compose", "post.write", ready=True),
    PageLink("approvals", "/approvals", "post.approve", ready=True),
    PageLink("calendar", "/calendar", "post.read", ready=True),
    PageLink("deliveries", "/deliveries", "post.read", ready=True),
    PageLink("audit", "/audit", "journal.read", ready=True),
    PageLink("users", "/users", "users.manage", ready=True),
    PageLink("channels", "/channels", "channels.manage", ready=True),
)


def pages_for(user: User) -> list[PageLink]:
    """The pages *user*'s role may open (the links of others would only lead to a 403)."""
    return [page for page in PAGES if can(user, page.action)]


@router.get("/")
def dashboard(request: Request, user: Annotated[User, Depends(require("post.read"))]) -> Response:
    """The first page after login."""
    site = request.app.state.site
    agency = site.app.config.agencies.get(user.agency) if user.agency else None
    zone = site.app.config.timezone
    context = {"pages": pages_for(user), "agency_name": agency.name if agency else None,
               "shown_name": user.display_name or user.username, "board": dashboard_data.collect(site.app, user),
               "when": lambda v: "" if v is None else v.astimezone(zone).strftime("%d/%m/%Y %H:%M"),
               "percent": lambda share: audit_report.percent(share, speaker(request).lang)}
    return render(request, "dashboard.html", context)


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    """Remember *lang* for this browser, then go back.

    A plain link (GET): choosing a language changes nothing on the server and
    no data, so it needs no CSRF token and works on every page, error pages too.
    """
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    return response
