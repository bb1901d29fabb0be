"""The audit API (``/api/v1``): the journal, its chain's check and coverage, as the audit pages show them.

Read-only: the journal and its check need ``journal.read``, coverage
``report.read``; what each account sees is bounded by its agency
(``web.audit_data``).  A date or year not understood is a 400 with the
message the page shows.  The page module (``audit.py``) includes this router
and shares the query types and the journal filter below.
"""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from ... import coverage_html as view
from ...access import User
from ...errors import InputError
from .. import audit_data as data
from .. import audit_report as report
from ..auth import require
from ..language import speaker
from .api import REFUSALS, Problem

api = APIRouter(prefix="/api/v1", tags=["v1"])
Reader = Annotated[User, Depends(require("journal.read"))]
ReportReader = Annotated[User, Depends(require("report.read"))]
Text = Annotated[str, Query(max_length=200)]
From = Annotated[str, Query(alias="from", max_length=40)]
To = Annotated[str, Query(alias="to", max_length=40, description="Included.")]
LocalDate = Annotated[str, Query(max_length=40, description="A local date, included.")]
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "A date or year not understood."}}


def journal_filter(event: str, actor: str, subject: str, since: str, until: str,
                   page: str | int) -> data.JournalFilter:
    """The journal's filters as typed (a page number that is not one: the first page)."""
    number = page if isinstance(page, int) else int(page) if page.isdigit() else 1
    return data.JournalFilter.of(event, actor, subject, since, until, number)


@api.get("/journal", response_model=report.JournalPage, responses={**REFUSALS, **INVALID},
         summary="Journal entries")
def api_journal(request: Request, user: Reader, event: Text = "", actor: Text = "", subject: Text = "",
                since: LocalDate = "", until: LocalDate = "",
                page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> Response | report.JournalPage:
    """The entries this account may see, newest first, 100 a page (event: a prefix; subject: exact or ``kind:``)."""
    try:
        f = journal_filter(event, actor, subject, since, until, page)
    except InputError as exc:
        return JSONResponse({"detail": speaker(request).error(exc)}, 400)
    rows, total = data.journal_page(request.app.state.site.app, user, f)
    items = [report.JournalEntryOut(**{**r, "payload": data.json.loads(r["payload"])}) for r in rows]
    return report.JournalPage(items=items, total=total, page=f.page, pages=max(1, ceil(total / data.PER_PAGE)))


@api.get("/journal/verify", response_model=report.VerificationOut, responses=REFUSALS,
         summary="Verify the journal's hash chain")
def api_verify(request: Request, user: Reader) -> report.VerificationOut:
    return report.verification(request.app.state.site.app, speaker(request))


@api.get("/coverage", response_model=report.CoverageOut, responses={**REFUSALS, **INVALID},
         summary="Coverage of high-impact policies")
def api_coverage(request: Request, user: ReportReader,
                 year: Annotated[str, Query(max_length=8, description="YYYY (default: this year).")] = "",
                 start: From = "", end: To = "",
                 agency: Text = "") -> Response | report.CoverageOut:
    app = request.app.state.site.app
    try:
        cov = report.coverage_for(app, user, report.period(year, start, end, app.config.timezone), agency)
    except InputError as exc:
        return JSONResponse({"detail": speaker(request).error(exc)}, 400)
    return report.CoverageOut.model_validate(view.to_dict(cov))
