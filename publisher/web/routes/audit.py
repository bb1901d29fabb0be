"""The audit pages and API: the journal with its filters and CSV, the chain's check, coverage, dossiers.

Read-only: every role with ``journal.read`` (the journal, dossiers) or
``report.read`` (coverage) may open them, auditors included; what each sees
is bounded by its agency (``web.audit_data`` says how subjects map to
agencies).  The chain is re-computed on every load of ``/audit`` (it streams
the rows).  Downloads carry ASCII file names; CSV is UTF-8 with a BOM.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from math import ceil
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from ... import coverage_html as view
from ... import dossier, reports
from ...access import User
from ...errors import InputError
from .. import audit_data as data
from .. import audit_report as report
from ..auth import require
from ..language import speaker
from ..templating import render
from .api import REFUSALS, Problem

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["v1"])
Reader = Annotated[User, Depends(require("journal.read"))]
ReportReader = Annotated[User, Depends(require("report.read"))]
MAX_ID = 2**31 - 1
Text = Annotated[str, Query(max_length=200)]
From = Annotated[str, Query(alias="from", max_length=40)]
To = Annotated[str, Query(alias="to", max_length=40, description="Included.")]
INVALID: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "A date or year not understood."}}


def _id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise HTTPException(404)
    return int(text)


def _when(request: Request) -> Any:
    zone = request.app.state.site.app.config.timezone
    return lambda value: "" if value is None else value.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def _refused(request: Request, exc: InputError, title: str) -> Response:
    words = speaker(request)
    return render(request, "error.html", {"title": title, "message": words.error(exc)}, status_code=400)


def _filters(event: str, actor: str, subject: str, since: str, until: str, page: str | int) -> data.JournalFilter:
    number = page if isinstance(page, int) else int(page) if page.isdigit() else 1
    return data.JournalFilter.of(event, actor, subject, since, until, number)


# --- pages -------------------------------------------------------------------------------------

@pages.get("/audit")
def journal_page(request: Request, user: Reader, event: str = "", actor: str = "", subject: str = "",
                 since: str = "", until: str = "", page: str = "1") -> Response:
    """The journal newest first, the chain's status and the anchor to write down."""
    words = speaker(request)
    try:
        f = _filters(event, actor, subject, since, until, page)
    except InputError as exc:
        return _refused(request, exc, words.t("web.audit.title"))
    app = request.app.state.site.app
    rows, total = data.journal_page(app, user, f)
    shown, pages_ = f.shown(), max(1, ceil(total / data.PER_PAGE))

    def href(n: int) -> str:
        return "/audit?" + urlencode({**shown, "page": n})

    form = {k: shown.get(k, "") for k in ("event", "actor", "subject", "since", "until")}
    context = {"rows": rows, "total": total, "page": f.page, "pages": pages_, "form": form,
               "check": report.verification(app, words), "when": _when(request), "short": data.short,
               "csv": "/audit/journal.csv" + (f"?{urlencode(shown)}" if shown else ""),
               "previous": href(f.page - 1) if f.page > 1 else None,
               "next": href(f.page + 1) if f.page < pages_ else None}
    return render(request, "audit/journal.html", context)


@pages.get("/audit/journal.csv")
def journal_csv(request: Request, user: Reader, event: str = "", actor: str = "", subject: str = "",
                since: str = "", until: str = "") -> Response:
    """Every entry matching the filters, oldest first, as the CLI's ``log --journal --format csv``."""
    try:
        f = _filters(event, actor, subject, since, until, 1)
    except InputError as exc:
        return _refused(request, exc, speaker(request).t("web.audit.title"))
    text = reports.to_csv(data.journal_all(request.app.state.site.app, user, f), data.COLUMNS)
    return _download(text, "text/csv; charset=utf-8", f"nhat-ky-{_stamp(request)}.csv")


@pages.get("/audit/entry/{seq}")
def entry_page(request: Request, seq: str, user: Reader) -> Response:
    found = data.entry(request.app.state.site.app, user, _id(seq))
    return render(request, "audit/entry.html", {"e": found, "when": _when(request)})


@pages.get("/audit/coverage")
def coverage_page(request: Request, user: ReportReader, year: str = "", start: From = "", end: To = "",
                  agency: str = "") -> Response:
    words, app = speaker(request), request.app.state.site.app
    try:
        cov = report.coverage_for(app, user, report.period(year, start, end, app.config.timezone), agency)
    except InputError as exc:
        return _refused(request, exc, words.t("coverage.html.title"))
    asked = {k: v for k, v in (("year", year), ("from", start), ("to", end), ("agency", cov.agency or "")) if v}
    ids = data.policy_ids(app, cov.rows)
    rows = [{**r, "id": ids.get((r["agency"], r["code"])), "reason_text": report.reason(words, r["reason"])}
            for r in cov.rows]
    name = app.config.agencies[cov.agency].name if cov.agency in app.config.agencies else cov.agency
    verdict = (words.t("coverage.verdict.none") if cov.met is None else
               words.t("coverage.verdict.met") if cov.met else words.t("coverage.verdict.not_met"))
    context = {"cov": cov, "rows": rows, "uncovered": [r for r in rows if not r["covered"]],
               "share": report.percent(cov.share, words.lang), "chart": report.chart(cov, words),
               "channels": view.channel_chart(cov.by_channel), "verdict": verdict,
               "agency_name": name or words.t("coverage.all_agencies"), "when": _when(request),
               "agencies": [] if user.agency else sorted(app.config.agencies.items()),
               "form": {"year": year, "from": start, "to": end},
               "csv": "/audit/coverage.csv" + (f"?{urlencode(asked)}" if asked else "")}
    return render(request, "audit/coverage.html", context)


@pages.get("/audit/coverage.csv")
def coverage_csv(request: Request, user: ReportReader, year: str = "", start: From = "", end: To = "",
                 agency: str = "") -> Response:
    words, app = speaker(request), request.app.state.site.app
    try:
        cov = report.coverage_for(app, user, report.period(year, start, end, app.config.timezone), agency)
    except InputError as exc:
        return _refused(request, exc, words.t("coverage.html.title"))
    text = reports.to_csv(report.csv_rows(cov, words), data.CSV_COLUMNS)
    name = f"bao-cao-bao-phu-{cov.period.start:%Y%m%d}-{cov.period.end:%Y%m%d}.csv"
    return _download(text, "text/csv; charset=utf-8", name)


@pages.get("/audit/dossier/{policy_id}")
def dossier_zip(request: Request, policy_id: str, user: Reader) -> Response:
    """The policy's dossier (dossier.export into a temporary folder, removed once sent); 404 if not ours."""
    app = request.app.state.site.app
    code, agency = data.policy_of(app, user, _id(policy_id))
    folder = Path(tempfile.mkdtemp(prefix="publisher-dossier-"))
    try:
        written = dossier.export(app, user.username, code, agency, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(written.path, media_type="application/zip", filename=written.path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _download(text: str, kind: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type=kind,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def _stamp(request: Request) -> str:
    return datetime.now(request.app.state.site.app.config.timezone).strftime("%Y%m%d-%H%M")


# --- API ---------------------------------------------------------------------------------------

@api.get("/journal", response_model=report.JournalPage, responses={**REFUSALS, **INVALID},
         summary="Journal entries")
def api_journal(request: Request, user: Reader, event: Text = "", actor: Text = "", subject: Text = "",
                since: Annotated[str, Query(max_length=40, description="A local date, included.")] = "",
                until: Annotated[str, Query(max_length=40, description="A local date, included.")] = "",
                page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> Response | report.JournalPage:
    """The entries this account may see, newest first, 100 a page (event: a prefix; subject: exact or ``kind:``)."""
    try:
        f = _filters(event, actor, subject, since, until, page)
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


router.include_router(pages)
router.include_router(api)
