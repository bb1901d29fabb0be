"""Presenting rows: aligned tables, times in the display zone, JSON."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from ..i18n import t


def when(value: datetime | None, zone: ZoneInfo) -> str:
    """A UTC time as the user reads it (display zone, to the minute)."""
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], header_prefix: str = "col") -> None:
    """Print *rows* as an aligned table with translated headers."""
    if not rows:
        click.echo(t("cli.empty"))
        return
    headers = [t(f"{header_prefix}.{c}") for c in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(_width(x) for x in col) for col in zip(headers, *cells, strict=False)]
    for line in [headers, *cells]:
        click.echo("  ".join(x + " " * (w - _width(x)) for x, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def dump(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return str(value)
