"""The Jinja2 filters post templates use (registered by ``loader.environment``).

``ngay``
    ``date(2024, 1, 16) | ngay`` -> ``"ngày 16 tháng 01 năm 2024"``; None -> ``""``.
``so``
    ``10935259 | so`` -> ``"10.935.259"``.
``con_lai``
    ``policy.consultation_closes | con_lai`` -> days from ``today`` until the
    date (int: 3, 0 on the day itself, negative once past).  ``| con_lai(d)``
    counts from *d* instead of ``today``.  None is an error.
``han``
    ``policy.consultation_closes | han`` -> a deadline phrase counted from
    ``today``: ``"còn 3 ngày"``, ``"ngày mai là ngày cuối"``, ``"hôm nay là
    ngày cuối"``, ``"đã hết hạn"``; None -> ``""``.  ``| han(d)`` as above.
``doan``
    free text to paragraphs: in an HTML template each blank-line-separated
    block becomes an (escaped) ``<p>``, a single newline a ``<br>``; in a
    text template the text is returned unchanged.

Dates given as text (``--var han=2024-01-16``) are read as ISO dates.  A
filter given the wrong kind of value raises TypeError or ValueError, which
``text.render`` reports as the template's fault, with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import jinja2
import markupsafe

from ..models import utcnow


def _as_date(value: date | datetime | str, name: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None  # -> render.failed_at
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise TypeError(f"{name}: {value!r} is not a date")
    return value


def vn_date(value: date | datetime | str | None) -> str:
    """16/01/2024 -> 'ngày 16 tháng 01 năm 2024' (the administrative style).

    Also takes an ISO date written as text (``--var han=2024-01-16``).
    """
    if value is None or value == "":
        return ""
    value = _as_date(value, "ngay")
    return f"ngày {value.day:02d} tháng {value.month:02d} năm {value.year}"


def vn_number(value: int | float | str) -> str:
    """10935259 -> '10.935.259' (Vietnamese groups thousands with dots).

    Also takes a number written as text (``--var so_nguoi=10935259``).
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            value = float(text)  # ValueError -> render.failed
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"so: {value!r} is not a number")
    return f"{value:,}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def days_left(value: date | datetime | str | None, today: date | datetime | str) -> int:
    """Whole days from *today* until *value*: 3, 0 on the day, negative once past."""
    if value is None or value == "":
        raise TypeError("con_lai: no date given (None)")
    return (_as_date(value, "con_lai") - _as_date(today, "con_lai")).days


def deadline_phrase(value: date | datetime | str | None, today: date | datetime | str) -> str:
    """How a deadline stands on *today*, in words: 'còn 3 ngày', 'hôm nay là ngày cuối'..."""
    if value is None or value == "":
        return ""
    days = (_as_date(value, "han") - _as_date(today, "han")).days
    if days > 1:
        return f"còn {days} ngày"
    if days == 1:
        return "ngày mai là ngày cuối"
    if days == 0:
        return "hôm nay là ngày cuối"
    return "đã hết hạn"


def _today(context: jinja2.runtime.Context, today: Any) -> Any:
    if today is not None:
        return today
    found = context.get("today")
    return found if found is not None else utcnow().date()


@jinja2.pass_context
def _con_lai(context: jinja2.runtime.Context, value: Any, today: Any = None) -> int:
    return days_left(value, _today(context, today))


@jinja2.pass_context
def _han(context: jinja2.runtime.Context, value: Any, today: Any = None) -> str:
    return deadline_phrase(value, _today(context, today))


@jinja2.pass_eval_context
def paragraphs(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> str:
    """Free text to HTML paragraphs (escaped); unchanged in a text template."""
    if value is None:
        return ""
    if not eval_ctx.autoescape:
        return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    text = str(markupsafe.escape(value)).replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    html = "\n".join("<p>" + "<br>\n".join(line.strip() for line in b.split("\n")) + "</p>" for b in blocks)
    return markupsafe.Markup(html)


#: Every filter by the name templates use.
FILTERS: dict[str, Callable[..., Any]] = {
    "ngay": vn_date,
    "so": vn_number,
    "con_lai": _con_lai,
    "han": _han,
    "doan": paragraphs,
}
