"""Text rendering of posts from Jinja2 templates.

Templates live in ``templates/posts/<name>.<format>.<ext>``: ``portal`` posts
are HTML (autoescaped), ``facebook`` posts are plain text.  Staff override a
built-in template by putting a file of the same name in their own folder: the
environment is a ``ChoiceLoader`` over the user's folder, then the built-in
one.  ``StrictUndefined`` makes a missing variable an error instead of a
blank in a public post; the output is NFC-normalised and checked against the
format's length limit.  A template may ``{% set title = ... %}``; otherwise
the policy title is the post title.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from ..errors import InputError
from ..models import nfc

FORMAT_EXT = {"portal": "html", "facebook": "txt"}
#: Longest body each format accepts (Graph API: 63,206 characters per post).
LIMITS = {"portal": 200_000, "facebook": 63_206}
TITLE_LIMIT = 250


def template_name(dirs: Sequence[Path], name: str, fmt: str) -> str | None:
    """The loader name of template *name* for *fmt*, or None if no folder has it."""
    rel = f"posts/{name}.{fmt}.{FORMAT_EXT[fmt]}"
    return rel if any((d / rel).is_file() for d in dirs) else None


def available(dirs: Sequence[Path]) -> list[str]:
    """Names of the templates found in any folder (for help and errors)."""
    found = {p.name.split(".")[0] for d in dirs for p in (d / "posts").glob("*.*.*")}
    return sorted(found)


def vn_date(value: date | datetime | str | None) -> str:
    """16/01/2024 -> 'ngày 16 tháng 01 năm 2024' (the administrative style).

    Also takes an ISO date written as text (``--var han=2024-01-16``).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value.strip())  # ValueError -> render.failed
    if not isinstance(value, date):
        raise TypeError(f"ngay: {value!r} is not a date")
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


@lru_cache(maxsize=8)
def environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    """The one place Jinja2 environments are built."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html")),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ngay"] = vn_date
    env.filters["so"] = vn_number
    return env


def render(dirs: Sequence[Path], name: str, fmt: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render template *name* for *fmt*; returns ``(title, body)``, both NFC."""
    rel = template_name(dirs, name, fmt)
    if rel is None:
        raise InputError("render.no_template", name=name, format=fmt, available=", ".join(available(dirs)))
    env = environment(tuple(dirs))
    file = rel
    try:
        template = env.get_template(rel)
        file = template.filename or rel  # the copy actually used: the user's or the built-in one
        module = template.make_module(context)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError("render.syntax", file=exc.filename or rel, line=exc.lineno, detail=exc.message) from None
    except jinja2.UndefinedError as exc:
        raise InputError("render.undefined", file=file, detail=exc.message) from None
    except jinja2.TemplateError as exc:  # e.g. {% include %} of a missing file
        raise InputError("render.failed", file=file, detail=f"{type(exc).__name__}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        # a filter given the wrong kind of value, {{ 1 / 0 }}...: the template's fault, not ours
        raise InputError("render.failed", file=file, detail=f"{type(exc).__name__}: {exc}") from None
    title_value = getattr(module, "title", context["policy"]["title"])
    if isinstance(title_value, markupsafe.Markup):  # {% set title %}...{% endset %} in HTML: escaped
        title_value = title_value.unescape()
    title = nfc(str(title_value)).strip()
    body = nfc(str(module)).strip() + "\n"
    _check_limits(rel, fmt, title, body)
    return title, body


def _check_limits(rel: str, fmt: str, title: str, body: str) -> None:
    if len(body) > LIMITS[fmt]:
        raise InputError("render.too_long", file=rel, length=len(body), limit=LIMITS[fmt])
    if not title or len(title) > TITLE_LIMIT:
        raise InputError("render.bad_title", file=rel, length=len(title), limit=TITLE_LIMIT)
