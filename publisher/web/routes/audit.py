"""The audit pages and API: the journal with its filters and CSV, the chain's check, coverage, dossiers.

Read-only: every role with ``journal.read`` (the journal, dossiers) or
``report.read`` (coverage) may open them, auditors included; what each sees
is bounded by its agency (``web.audit_data`` says how subjects map to
agencies).  The chain is re-computed on every load of ``/audit`` (it streams
the rows).  Downloads carry ASCII file names; CSV is UTF-8 with a BOM.
The API under ``/api/v1`` is ``audit_api.py`` (included below).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ... import coverage_html as view
from ... import dossier, reports
from ...access import User
from ...coverage import Coverage
from ...errors import InputError
from .. import audit_data as data
from .. import audit_report as report
from ..language import Speaker, speaker
from ..templating import render
from .audit_api import From, Reader, ReportReader, To, api, journal_filter

router = APIRouter()
pages = APIRouter(include_in_schema=False)
MAX_ID = 2**31 - 1


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


# --- pages -------------------------------------------------------------------------------------

@pages.get("/audit")
def journal_page(request: Request, user: Reader, event: str = "", actor: str = "", subject: str = "",
                 since: str = "", until: str = "", page: str = "1") -> Response:
    """The journal newest first, the chain's status and the anchor to write down."""
    words = speaker(request)
    try:
        f = journal_filter(event, actor, subject, since, until, page)
    except InputError as exc:
        return _refused(request, exc, words.t("web.audit.title"))
    app = request.app.state.site.app
    rows, total = data.journal_page(app, user, f)
    context = {"rows": rows, "total": total, "page": f.page, "check": report.verification(app, words),
               "when": _when(request), "short": data.short, **_journal_links(f, total)}
    return render(request, "audit/journal.html", context)


def _journal_links(f: data.JournalFilter, total: int) -> dict[str, Any]:
    """The filter form as typed, the page count, and the CSV, previous and next links keeping the filters."""
    shown, pages_ = f.shown(), max(1, ceil(total / data.PER_PAGE))

    def href(n: int) -> str:
        return "/audit?" + urlencode({**shown, "page": n})

    return {"pages": pages_, "form": {k: shown.get(k, "") for k in ("event", "actor", "subject", "since", "until")},
            "csv": "/audit/journal.csv" + (f"?{urlencode(shown)}" if shown else ""),
            "previous": href(f.page - 1) if f.page > 1 else None,
            "next": href(f.page + 1) if f.page < pages_ else None}


@pages.get("/audit/journal.csv")
def journal_csv(request: Request, user: Reader, event: str = "", actor: str = "", subject: str = "",
                since: str = "", until: str = "") -> Response:
    """Every entry matching the filters, oldest first, as the CLI's ``log --journal --format csv``."""
    try:
        f = journal_filter(event, actor, subject, since, until, 1)
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
    context = {**_coverage_view(request, words, user, cov), "form": {"year": year, "from": start, "to": end},
               "csv": "/audit/coverage.csv" + (f"?{urlencode(asked)}" if asked else "")}
    return render(request, "audit/coverage.html", context)


def _coverage_view(request: Request, words: Speaker, user: User, cov: Coverage) -> dict[str, Any]:
    """The coverage as the page shows it: rows with their policy's id and reason, charts, the verdict."""
    app = request.app.state.site.app
    ids = data.policy_ids(app, cov.rows)
    rows = [{**r, "id": ids.get((r["agency"], r["code"])), "reason_text": report.reason(words, r["reason"])}
            for r in cov.rows]
    name = app.config.agencies[cov.agency].name if cov.agency in app.config.agencies else cov.agency
    verdict = (words.t("coverage.verdict.none") if cov.met is None else
               words.t("coverage.verdict.met") if cov.met else words.t("coverage.verdict.not_met"))
    return {"cov": cov, "rows": rows, "uncovered": [r for r in rows if not r["covered"]],
            "share": report.percent(cov.share, words.lang), "chart": report.chart(cov, words),
            "channels": view.channel_chart(cov.by_channel), "verdict": verdict,
            "agency_name": name or words.t("coverage.all_agencies"), "when": _when(request),
            "agencies": [] if user.agency else sorted(app.config.agencies.items())}


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


router.include_router(pages)
router.include_router(api)
