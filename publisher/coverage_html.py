"""How the coverage report is shown: its texts, its JSON data and a one-file HTML page.

The page has inline CSS and inline SVG charts, no script and nothing fetched
from elsewhere, so it can be mailed, printed or archived as it is.  Jinja2
autoescapes every value: policy titles are typed by staff.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from .coverage import REASONS, Coverage, Period
from .i18n import language, t
from .models import utcnow

TEMPLATES = Path(__file__).parent / "reports_html"
LEFT, TOP, HEIGHT = 56, 24, 180  # the coverage chart's plot area (SVG user units)


def percent(share: float | None) -> str:
    """A share as a percentage, with a decimal comma in Vietnamese: 0.667 -> "66,7%"."""
    if share is None:
        return "—"
    text = f"{share * 100:.1f}".removesuffix(".0") + "%"
    return text.replace(".", ",") if language() == "vi" else text


def reason_text(reason: str | None) -> str:
    """Why a policy is not covered, in the current language ("" when it is covered)."""
    texts = {"wrong_channel": t("coverage.reason.wrong_channel"), "pending": t("coverage.reason.pending"),
             "too_late": t("coverage.reason.too_late"), "too_early": t("coverage.reason.too_early"),
             "failed": t("coverage.reason.failed"), "cancelled": t("coverage.reason.cancelled"),
             "nothing_queued": t("coverage.reason.nothing_queued")}
    return texts[reason] if reason else ""


def rule_text(requires: str) -> str:
    """What audit.coverage_requires asks for, in words."""
    return {"any": t("coverage.rule.any"), "portal": t("coverage.rule.portal"),
            "fanpage": t("coverage.rule.fanpage"), "both": t("coverage.rule.both")}[requires]


def verdict(cov: Coverage) -> str:
    if cov.met is None:
        return t("coverage.verdict.none")
    return t("coverage.verdict.met") if cov.met else t("coverage.verdict.not_met")


def reason_counts(cov: Coverage) -> dict[str, int]:
    """Uncovered policies per reason, every reason present (stable keys)."""
    counts = Counter(r["reason"] for r in cov.rows if r["reason"])
    return {reason: counts[reason] for reason in REASONS}


def to_dict(cov: Coverage) -> dict[str, Any]:
    """The report as JSON-ready data with stable keys, for scripts (times in UTC)."""
    return {"from": cov.period.start, "to": cov.period.end, "agency": cov.agency, "timezone": cov.timezone,
            "requires": cov.requires, "target": cov.target, "in_scope": cov.in_scope, "covered": cov.covered,
            "uncovered": cov.in_scope - cov.covered, "share": cov.share, "met": cov.met,
            "reasons": reason_counts(cov), "by_channel": cov.by_channel, "policies": cov.rows}


def display_rows(cov: Coverage, zone: ZoneInfo) -> list[dict[str, str]]:
    """The policy rows as people read them: local times, words instead of codes."""
    return [{"agency": r["agency"], "code": r["code"], "title": r["title"],
             "consultation_opens": r["consultation_opens"].isoformat(),
             "issued_on": r["issued_on"].isoformat() if r["issued_on"] else t("coverage.not_issued"),
             "covered": t("coverage.yes") if r["covered"] else t("coverage.no"),
             "first_published": r["first_published"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
             if r["first_published"] else "", "channels": ", ".join(r["channels"]),
             "reason": reason_text(r["reason"])} for r in cov.rows]


def headers() -> dict[str, str]:
    """Column titles of the policy table (the CLI's table reads the same coverage.col.* keys)."""
    return {"agency": t("coverage.col.agency"), "code": t("coverage.col.code"), "title": t("coverage.col.title"),
            "consultation_opens": t("coverage.col.consultation_opens"), "issued_on": t("coverage.col.issued_on"),
            "covered": t("coverage.col.covered"), "first_published": t("coverage.col.first_published"),
            "channels": t("coverage.col.channels"), "reason": t("coverage.col.reason")}


def by_period(cov: Coverage) -> tuple[bool, list[tuple[str, int, int]]]:
    """(quarterly?, [(label, in scope, covered)]) per month of consultation opening; per quarter beyond a year."""
    quarterly = (cov.period.end - cov.period.start).days > 366
    slots = {key: [0, 0] for key in _slots(cov.period, quarterly)}  # empty months are shown too
    for row in cov.rows:
        slot = slots[_slot(row["consultation_opens"], quarterly)]
        slot[0] += 1
        slot[1] += 1 if row["covered"] else 0
    return quarterly, [(_slot_label(key, quarterly), n, c) for key, (n, c) in slots.items()]


def _slot(day: date, quarterly: bool) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1 if quarterly else day.month


def _slots(period: Period, quarterly: bool) -> list[tuple[int, int]]:
    first, last = _slot(period.start, quarterly), _slot(period.end, quarterly)
    per_year = 4 if quarterly else 12
    return [(i // per_year, i % per_year + 1) for i in range(first[0] * per_year + first[1] - 1,
                                                              last[0] * per_year + last[1])]


def _slot_label(key: tuple[int, int], quarterly: bool) -> str:
    if quarterly:
        return t("coverage.quarter", quarter=key[1], year=key[0])
    return t("coverage.month", month=f"{key[1]:02d}", year=key[0])


def coverage_chart(slots: list[tuple[str, int, int]], target: float) -> dict[str, Any]:
    """Bar geometry: one bar per slot, its height the slot's share; the target as a line."""
    step = 56.0
    width = LEFT + 16 + step * max(len(slots), 1)
    bars = []
    for i, (label, n, c) in enumerate(slots):
        h = HEIGHT * c / n if n else 0.0
        bars.append({"x": round(LEFT + i * step + 10, 1), "w": step - 20, "y": round(TOP + HEIGHT - h, 1),
                     "h": round(h, 1), "cx": round(LEFT + i * step + step / 2, 1), "label": label,
                     "value": f"{c}/{n}" if n else "–", "met": bool(n) and c / n >= target})
    ticks = [{"y": round(TOP + HEIGHT * (1 - v), 1), "text": percent(v)} for v in (0, 0.5, 1)]
    return {"width": round(width, 1), "height": TOP + HEIGHT + 40, "bars": bars, "ticks": ticks,
            "left": LEFT, "base": TOP + HEIGHT, "target_y": round(TOP + HEIGHT * (1 - target), 1)}


def channel_chart(counts: dict[str, int]) -> dict[str, Any]:
    """Horizontal bars: published deliveries per channel."""
    most = max(counts.values(), default=0) or 1
    bars = [{"y": 8 + i * 28, "w": round(360 * n / most, 1), "label": name, "value": str(n)}
            for i, (name, n) in enumerate(counts.items())]
    return {"width": 640, "height": 16 + 28 * len(bars), "bars": bars}


@cache
def environment() -> jinja2.Environment:
    """Autoescape on for every template of this folder (they are all HTML)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(cov: Coverage, zone: ZoneInfo, agency_name: str) -> str:
    """The whole report as one HTML page."""
    quarterly, slots = by_period(cov)
    rows = display_rows(cov, zone)
    return environment().get_template("coverage.html.j2").render(
        lang=language(), cov=cov, agency_name=agency_name, share=percent(cov.share), target=percent(cov.target),
        verdict=verdict(cov), rule=rule_text(cov.requires), rows=rows, headers=headers(), labels=_labels(quarterly),
        uncovered=[r for r, raw in zip(rows, cov.rows, strict=True) if not raw["covered"]],
        by_period=coverage_chart(slots, cov.target), by_channel=channel_chart(cov.by_channel),
        generated=utcnow().astimezone(zone).strftime("%Y-%m-%d %H:%M"))


def _labels(quarterly: bool) -> dict[str, str]:
    return {"title": t("coverage.html.title"), "period": t("coverage.html.period"),
            "agency": t("coverage.html.agency"), "rule": t("coverage.html.rule"),
            "target": t("coverage.html.target"),
            "covered_of": t("coverage.html.covered_of"), "target_line": t("coverage.html.target_line"),
            "by_period": t("coverage.html.by_quarter") if quarterly else t("coverage.html.by_month"),
            "by_channel": t("coverage.html.by_channel"), "no_publications": t("coverage.html.no_publications"),
            "uncovered": t("coverage.html.uncovered"), "none_uncovered": t("coverage.html.none_uncovered"),
            "policies": t("coverage.html.policies"), "no_policies": t("coverage.html.no_policies"),
            "generated": t("coverage.html.generated")}
