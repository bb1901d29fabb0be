"""The policies API (``/api/v1/policies``): the same operations as the policies pages, with the same rules.

Reading needs ``post.read``; registering and changing a policy
``policy.write``; planning its campaign ``post.write`` (planning writes draft
posts).  Values go through ``service`` (the CLI's path); refused input is a
400 naming its field, a policy this account may not see a 404.  The page
module (``policies.py``) includes this router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from ... import campaign, service
from ...access import User
from ...errors import InputError
from ..auth import require
from ..language import speaker
from ..policy_forms import check_input, error_field
from ..policy_lookup import MAX_ID, agency_for, get_visible, search, visible
from ..policy_models import CampaignStep, InvalidInput, PolicyChanged, PolicyEdit, PolicyNew, PolicyOut
from .api import REFUSALS, Problem

api = APIRouter(prefix="/api/v1/policies", tags=["v1"])

Reader = Annotated[User, Depends(require("post.read"))]
Writer = Annotated[User, Depends(require("policy.write"))]
Planner = Annotated[User, Depends(require("post.write"))]
PolicyId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such policy you may see."}}
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": InvalidInput, "description": "Input refused."}}


@api.get("", response_model=list[PolicyOut], responses=REFUSALS, summary="Policies")
def api_list(request: Request, user: Reader, q: str = "") -> list[PolicyOut]:
    """The policies this account may see; *q* searches code and title (any case, with or without marks)."""
    found = search(visible(request.app.state.site.app, user), q)
    return [PolicyOut.of(p) for p in found]


@api.get("/{pid}", response_model=PolicyOut, responses={**REFUSALS, **NOT_FOUND}, summary="One policy")
def api_get(request: Request, pid: PolicyId, user: Reader) -> PolicyOut:
    return PolicyOut.of(get_visible(request.app.state.site.app, user, pid))


@api.post("", status_code=201, response_model=PolicyOut, responses={**REFUSALS, **INVALID},
          summary="Register a policy")
def api_create(request: Request, body: PolicyNew, user: Writer) -> Any:
    app = request.app.state.site.app
    data = body.model_dump(exclude_unset=True)
    data["agency"] = agency_for(app, user, body.agency)
    try:
        created = service.add_policy(app, user.username, check_input(data, "API"), source="API")
    except InputError as exc:
        return _invalid(request, exc)
    return PolicyOut.of(created)


@api.patch("/{pid}", response_model=PolicyChanged, responses={**REFUSALS, **NOT_FOUND, **INVALID},
           summary="Change a policy")
def api_update(request: Request, pid: PolicyId, body: PolicyEdit, user: Writer) -> Any:
    """Fields left out keep their value; changed dates re-plan the campaign's drafts (as the CLI does)."""
    app = request.app.state.site.app
    policy = get_visible(app, user, pid)
    try:
        data = check_input(body.model_dump(exclude_unset=True), "API")
        updated, changes = service.update_policy(app, user.username, policy.code, policy.agency, data, source="API")
        steps = campaign.replan_if_planned(app, user.username, updated) if changes else []
    except InputError as exc:
        return _invalid(request, exc)
    zone = app.config.timezone
    return PolicyChanged(policy=PolicyOut.of(updated), changed=sorted(changes),
                         campaign=[CampaignStep.of(s, zone) for s in steps])


@api.post("/{pid}/campaign", response_model=list[CampaignStep],
          responses={**REFUSALS, **NOT_FOUND, **INVALID}, summary="Plan the campaign")
def api_plan(request: Request, pid: PolicyId, user: Planner) -> Any:
    """Create or re-plan the standard posts (consultation opens, reminder, passed, issued) as drafts."""
    app = request.app.state.site.app
    policy = get_visible(app, user, pid)
    try:
        steps = campaign.plan(app, user.username, policy.code, policy.agency)
    except InputError as exc:
        return _invalid(request, exc)
    return [CampaignStep.of(s, app.config.timezone) for s in steps]


def _invalid(request: Request, exc: InputError) -> JSONResponse:
    shown = InvalidInput(detail=speaker(request).error(exc), field=error_field(exc))
    return JSONResponse(shown.model_dump(), status_code=400)
