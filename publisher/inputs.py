"""Turn what staff type (flags or a TOML file) into validated values.

Flags and TOML files go through the same checks, and every error names the
source and the field.  Dates may be written ``2024-01-16`` or ``16/01/2024``;
times are read in the display zone (Asia/Ho_Chi_Minh unless configured) and
stored in UTC.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from .errors import InputError
from .models import Impact, nfc, utcnow

POLICY_KEYS = {"code", "title", "summary", "impact", "agency", "consultation_opens", "consultation_closes",
               "passed_on", "issued_on", "draft_url", "key_points", "affected", "comment_how"}
TITLE_LENGTH = 200  # an infographic headline; portal titles add a short prefix within their 250
MAX_POINTS = 5  # infographics show 3–5 key points
POINT_LENGTH = 120  # what an infographic can show (render/infographic.py)
POST_KEYS = {"policy", "agency", "template", "channels", "at", "deadline", "variables", "media", "infographics"}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("input.no_file", source=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("input.bad_toml", source=str(path), detail=str(exc)) from None


def check_keys(data: dict[str, Any], allowed: set[str], source: str) -> None:
    for key in data:
        if key not in allowed:
            raise InputError("input.unknown_field", source=source, field=key, allowed=", ".join(sorted(allowed)))


def text(data: dict[str, Any], key: str, source: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError("input.required", source=source, field=key)
        return None
    if not isinstance(value, str):
        raise InputError("input.bad_field", source=source, field=key, detail="text")
    return nfc(value.strip())


#: Years a policy date or a publishing time may have: a typo like 9999 is refused here, not
#: later as an overflow when a deadline is added to it.
YEARS = range(1900, 3000)


def a_date(data: dict[str, Any], key: str, source: str) -> date | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
        if parsed.year in YEARS:
            return parsed
    raise InputError("input.bad_date", source=source, field=key, value=value)


def a_time(data: dict[str, Any], key: str, source: str, zone: ZoneInfo) -> datetime | None:
    """A moment typed in the display zone (or 'now'), as aware UTC."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in ("now", "ngay"):
        return utcnow()
    parsed = value if isinstance(value, datetime) else _parse_time(str(value).strip())
    if isinstance(parsed, date) and not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time(8, 0))  # a bare date means the start of the working day
    if parsed is None or parsed.year not in YEARS:
        raise InputError("input.bad_time", source=source, field=key, value=value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(ZoneInfo("UTC"))


def _parse_time(value: str) -> datetime | date | None:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:  # a bare date; an impossible one (31/02) is reported by the caller, naming the field
        return a_date({"v": value}, "v", "") if value.count("-") == 2 or "/" in value else None
    except InputError:
        return None


def impact(data: dict[str, Any], source: str) -> Impact:
    value = data.get("impact", Impact.HIGH.value)
    try:
        return Impact(str(value).strip().lower())
    except ValueError:
        raise InputError("input.bad_choice", source=source, field="impact", value=value,
                         choices=", ".join(i.value for i in Impact)) from None


def url(data: dict[str, Any], key: str, source: str) -> str | None:
    value = text(data, key, source, required=False)
    if value is not None and (urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc):
        raise InputError("input.bad_url", source=source, field=key, value=value)
    return value


def names(data: dict[str, Any], key: str, source: str) -> list[str]:
    """A list given as a TOML array or a comma-separated string."""
    value = data.get(key) or []
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("input.bad_field", source=source, field=key, detail="list")
    return list(dict.fromkeys(value))  # keep order, drop repeats


def title(data: dict[str, Any], key: str, source: str) -> str:
    value = text(data, key, source)
    assert value is not None
    if len(value) > TITLE_LENGTH:
        raise InputError("input.too_long", source=source, field=key, length=len(value), limit=TITLE_LENGTH)
    return value


def points(data: dict[str, Any], key: str, source: str) -> list[str]:
    """Key points: at most MAX_POINTS, each a short sentence (NFC)."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("input.bad_field", source=source, field=key, detail="list")
    found = [nfc(v.strip()) for v in value if v.strip()]
    if len(found) > MAX_POINTS:
        raise InputError("input.too_many_points", source=source, field=key, count=len(found), limit=MAX_POINTS)
    for point in found:
        if len(point) > POINT_LENGTH:
            raise InputError("input.point_too_long", source=source, field=key, text=point[:40], limit=POINT_LENGTH)
    return found
