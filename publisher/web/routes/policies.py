"""Policies: the list with its search, the create/edit form, the details with the campaign button, and the API.

Pages: ``/policies`` (everyone), ``/policies/new`` and ``/policies/{id}/edit``
(``policy.write``), ``/policies/{id}`` (everyone) and its campaign button
(``post.write``: planning writes draft posts).  The API under
``/api/v1/policies`` (``policies_api.py``, included below) does the same
operations with the same rules.  Values go through ``service`` (the CLI's
path); the parts that are not routes are in ``publisher/web/policy_forms.py``
(the form) and ``publisher/web/policy_lookup.py`` (who sees what, search).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from ... import campaign, service
from ...access import User, can
from ...errors import InputError
from ...models import Impact, Policy
from .. import policy_forms as forms
from ..language import speaker
from ..policy_lookup import agency_choices, agency_for, get_visible, search, visible
from ..templating import render
from .policies_api import Planner, Reader, Writer, api

router = APIRouter()
pages = APIRouter(include_in_schema=False)


class PolicyForm(BaseModel):
    """What the form posts: text as typed (the csrf_token field is checked app-wide)."""

    agency: str = ""
    code: str = ""
    title: str = ""
    summary: str = ""
    impact: str = ""
    consultation_opens: str = ""
    consultation_closes: str = ""
    passed_on: str = ""
    issued_on: str = ""
    draft_url: str = ""
    key_points: str = ""
    affected: str = ""
    comment_how: str = ""


# --- pages ---------------------------------------------------------------------------------------

@pages.get("/policies")
def list_page(request: Request, user: Reader, q: str = "") -> Response:
    app = request.app.state.site.app
    found = search(visible(app, user), q)
    return render(request, "policies/list.html", {
        "policies": found, "q": q, "can_write": can(user, "policy.write"), "dmy": forms.dmy,
        "show_agency": user.agency is None and len(app.config.agencies) > 1})


@pages.get("/policies/new")
def new_page(request: Request, user: Writer) -> Response:
    return _form(request, user, None, forms.blank_form(request.app.state.site.app, user))


@pages.post("/policies/new")
def create(request: Request, user: Writer, form: Annotated[PolicyForm, Form()]) -> Response:
    app, typed = request.app.state.site.app, form.model_dump()
    try:
        data = forms.data_from_form(typed, forms.FIELDS)
        data["agency"] = agency_for(app, user, typed["agency"])
        created = service.add_policy(app, user.username, forms.check_input(data, _source(request)),
                                     source=_source(request))
    except InputError as exc:
        return _form(request, user, None, typed, exc)
    return RedirectResponse(f"/policies/{created.id}?done=created", status_code=303)


@pages.get("/policies/{pid:int}")
def show_page(request: Request, pid: int, user: Reader, done: str = "") -> Response:
    policy = get_visible(request.app.state.site.app, user, pid)
    return _show(request, user, policy, notice="web.policies.created" if done == "created" else
                 "web.policies.saved" if done == "saved" else None)


@pages.get("/policies/{pid:int}/edit")
def edit_page(request: Request, pid: int, user: Writer) -> Response:
    policy = get_visible(request.app.state.site.app, user, pid)
    return _form(request, user, policy, forms.form_of(policy))


@pages.post("/policies/{pid:int}/edit")
def edit(request: Request, pid: int, user: Writer, form: Annotated[PolicyForm, Form()]) -> Response:
    app = request.app.state.site.app
    policy = get_visible(app, user, pid)
    typed = {**form.model_dump(), "agency": policy.agency, "code": policy.code}
    try:
        data = forms.check_input(forms.data_from_form(typed, forms.EDITABLE), _source(request))
        updated, changes = service.update_policy(app, user.username, policy.code, policy.agency, data,
                                                 source=_source(request))
        steps = campaign.replan_if_planned(app, user.username, updated) if changes else []
    except InputError as exc:
        return _form(request, user, policy, typed, exc)
    if steps:  # the dates moved the campaign's drafts: say so on the page itself
        return _show(request, user, updated, notice="web.policies.saved", steps=steps)
    return RedirectResponse(f"/policies/{policy.id}?done=saved", status_code=303)


@pages.post("/policies/{pid:int}/campaign")
def plan_page(request: Request, pid: int, user: Planner) -> Response:
    app = request.app.state.site.app
    policy = get_visible(app, user, pid)
    try:
        steps = campaign.plan(app, user.username, policy.code, policy.agency)
    except InputError as exc:
        return _show(request, user, policy, error=speaker(request).error(exc), status_code=400)
    return _show(request, user, policy, steps=steps)


def _source(request: Request) -> str:
    return speaker(request).t("web.policies.source_form")


def _form(request: Request, user: User, policy: Policy | None, values: dict[str, str],
          exc: InputError | None = None) -> Response:
    """The create (*policy* None) or edit form with *values* as typed, and the error of *exc* at its field."""
    app = request.app.state.site.app
    return render(request, "policies/form.html", {
        "policy": policy, "values": values, "agencies": agency_choices(app, user),
        "impacts": [i.value for i in Impact], "date_fields": forms.DATE_FIELDS,
        "error": speaker(request).error(exc) if exc else None,
        "error_field": forms.error_field(exc) if exc else None,
        "action": f"/policies/{policy.id}/edit" if policy else "/policies/new",
    }, status_code=400 if exc else 200)


def _show(request: Request, user: User, policy: Policy, *, notice: str | None = None, error: str | None = None,
          steps: list[campaign.Step] | None = None, status_code: int = 200) -> Response:
    app = request.app.state.site.app
    agency = app.config.agencies.get(policy.agency)
    return render(request, "policies/show.html", {
        "policy": policy, "agency_name": agency.name if agency else policy.agency, "dmy": forms.dmy,
        "created_at": forms.local_time(policy.created_at, app.config.timezone),
        "can_write": can(user, "policy.write"), "can_plan": can(user, "post.write"),
        "notice": notice, "error": error,
        "steps": forms.steps_view(steps, app.config.timezone) if steps is not None else None,
    }, status_code=status_code)


router.include_router(pages)
router.include_router(api)
