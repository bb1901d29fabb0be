"""The audit pages' reports: the chain's verification and the coverage view, in the request's language.

Split from :mod:`publisher.web.audit_data` (which reads the journal, bounded by
agency): these turn library results into what the pages and the API show.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from .. import coverage, reports
from .. import coverage_html as view
from ..access import User
from ..context import App
from ..errors import InputError
from .audit_data import PER_PAGE
from .language import Speaker

# --- the chain's verification -------------------------------------------------------------------

class AnchorOut(BaseModel):
    seq: int
    at: datetime | None
    hash: str
    anchor: str = Field(description="SEQ:HASH, to write down and check against later.")


class BreakOut(BaseModel):
    seq: int = Field(description="The first entry that fails.")
    reason: str = Field(description="edited, deleted, inserted, moved, renumbered or unlinked.")
    entry: int
    other: int | None


class VerificationOut(BaseModel):
    """The journal's hash chain, re-computed from its first entry."""

    ok: bool
    checked: int
    from_seq: int
    head: AnchorOut | None = Field(description="The head reached (null when the chain is broken).")
    broken: BreakOut | None
    message: str = Field(description="What was found, in the caller's language.")


def verification(app: App, words: Speaker) -> VerificationOut:
    result = reports.verification(app)
    b, head = result.broken, result.head
    if b is None:
        return VerificationOut(ok=True, checked=result.checked, from_seq=result.first, broken=None,
                               head=AnchorOut(seq=head.seq or 0, at=head.at, hash=head.hash,
                                              anchor=f"{head.seq or 0}:{head.hash}"),
                               message=words.t("audit.ok", count=result.checked, head=head.hash))
    message = f"{words.t('audit.broken', seq=b.seq, count=result.checked)}. {_explain(words, b)}"
    return VerificationOut(ok=False, checked=result.checked, from_seq=result.first, head=None, message=message,
                           broken=BreakOut(seq=b.seq, reason=b.reason, entry=b.entry, other=b.other))


def _explain(words: Speaker, b: Any) -> str:
    e, o = b.entry, b.other
    if b.reason == "deleted" and e == o:
        return words.t("audit.why_deleted_one", entry=e)
    return {"edited": lambda: words.t("audit.why_edited", entry=e),
            "deleted": lambda: words.t("audit.why_deleted", entry=e, other=o),
            "inserted": lambda: words.t("audit.why_inserted", entry=e),
            "moved": lambda: words.t("audit.why_moved", entry=e, other=o),
            "renumbered": lambda: words.t("audit.why_renumbered", entry=e),
            "unlinked": lambda: words.t("audit.why_unlinked", entry=e, other=o)}[b.reason]()


# --- coverage, in the request's language (coverage_html's helpers read the process language) -----

def percent(share: float | None, lang: str) -> str:
    if share is None:
        return "—"
    text = f"{share * 100:.1f}".removesuffix(".0") + "%"
    return text.replace(".", ",") if lang == "vi" else text


def reason(words: Speaker, key: str | None) -> str:
    if not key:
        return ""
    return {"wrong_channel": words.t("coverage.reason.wrong_channel"), "pending": words.t("coverage.reason.pending"),
            "too_late": words.t("coverage.reason.too_late"), "too_early": words.t("coverage.reason.too_early"),
            "failed": words.t("coverage.reason.failed"), "cancelled": words.t("coverage.reason.cancelled"),
            "nothing_queued": words.t("coverage.reason.nothing_queued")}[key]


def chart(cov: coverage.Coverage, words: Speaker) -> dict[str, Any]:
    """coverage_html's bar geometry, with month or quarter labels and ticks in *words*' language."""
    quarterly, slots = view.by_period(cov)
    per = 4 if quarterly else 12

    def index(day: date) -> int:
        return day.year * per + ((day.month - 1) // 3 if quarterly else day.month - 1)

    labels = []
    for i in range(index(cov.period.start), index(cov.period.end) + 1):
        year, n = divmod(i, per)
        labels.append(words.t("coverage.quarter", quarter=n + 1, year=year) if quarterly
                      else words.t("coverage.month", month=f"{n + 1:02d}", year=year))
    drawn = view.coverage_chart([(label, n, c) for label, (_, n, c) in zip(labels, slots, strict=True)], cov.target)
    for tick, value in zip(drawn["ticks"], (0, 0.5, 1), strict=True):
        tick["text"] = percent(value, words.lang)
    return {**drawn, "quarterly": quarterly, "target_text": percent(cov.target, words.lang)}


def csv_rows(cov: coverage.Coverage, words: Speaker) -> list[dict[str, Any]]:
    """As ``publisher report coverage --format csv``: codes for scripts, the reason in words for people."""
    return [{**r, "covered": "true" if r["covered"] else "false", "channels": ", ".join(r["channels"]),
             "reason": r["reason"] or "", "reason_text": reason(words, r["reason"]),
             "first_published": r["first_published"] or "", "issued_on": r["issued_on"] or ""} for r in cov.rows]


class JournalEntryOut(BaseModel):
    seq: int
    time: datetime
    actor: str
    event: str
    subject: str = Field(description="kind:key, e.g. policy:3, post:7, delivery:12, user:bien-tap.")
    payload: dict[str, Any] = Field(description="The event's details (stored as canonical JSON).")
    hash: str


class JournalPage(BaseModel):
    """One page of journal entries, newest first."""

    items: list[JournalEntryOut]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE


class CoveragePolicyOut(BaseModel):
    agency: str
    code: str
    title: str
    consultation_opens: date
    issued_on: date | None
    covered: bool
    first_published: datetime | None
    channels: list[str]
    reason: str | None = Field(description="Why not covered: " + ", ".join(coverage.REASONS) + ".")


class CoverageOut(BaseModel):
    """The coverage of high-impact policies whose consultation opened in the period."""

    start: date = Field(alias="from")
    to: date
    agency: str | None
    timezone: str
    requires: str
    target: float
    in_scope: int
    covered: int
    uncovered: int
    share: float | None
    met: bool | None
    reasons: dict[str, int]
    by_channel: dict[str, int]
    policies: list[CoveragePolicyOut]


def period(year: str, start: str, end: str, zone: ZoneInfo) -> coverage.Period:
    """The period asked for; this year (in display.timezone) when nothing is."""
    if not (year or start or end):
        year = str(datetime.now(zone).year)
    return coverage.parse_period(year or None, start or None, end or None)


def coverage_for(app: App, user: User, p: coverage.Period, agency: str) -> coverage.Coverage:
    """An agency-bound account gets its agency's report whatever it asks; others choose (blank: all)."""
    if user.agency is not None:
        agency = user.agency
    if agency and agency not in app.config.agencies:
        raise InputError("input.unknown_agency", source="agency", value=agency,
                         choices=", ".join(sorted(app.config.agencies)))
    return coverage.build(app, p, agency or None)
