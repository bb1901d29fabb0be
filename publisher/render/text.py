"""Text rendering of posts from Jinja2 templates.

Templates live in ``templates/posts/<name>.<format>.<ext>``: ``portal`` posts
are HTML (autoescaped, then sanitised), ``facebook`` posts are plain text.
Staff override a built-in template by putting a file of the same name in their
own folder: the environment is a ``ChoiceLoader`` over the user's folder, then
the built-in one.  ``StrictUndefined`` makes a missing variable an error
instead of a blank in a public post; the output is NFC-normalised and checked
against the format's length limit.  A template may ``{% set title = ... %}``;
otherwise the policy title is the post title.

What a template sees (the *context* given to :func:`render`):

``policy``
    dict: ``code``, ``title``, ``summary``, ``impact``, ``consultation_opens``,
    ``consultation_closes``, ``passed_on``, ``issued_on`` (``datetime.date``
    or None), ``draft_url``; optionally ``key_points`` (list of str),
    ``affected`` and ``comment_how`` (str or None) — templates read those
    three with ``policy.key_points | default([], true)`` so that they work
    when the keys are absent.
``agency``
    dict: ``code``, ``name``.
``channel``
    the channel name.
``today``
    optional ``datetime.date``: the day of publication in the display zone,
    which the deadline filters count from.  Callers should pass it (a post
    is frozen at approval and may go out days later); when it is missing,
    :func:`render` uses today's date in UTC.  Templates never call now().
the post's variables
    whatever ``--var`` / ``[variables]`` gave (text).

Filters (``ngay``, ``so``, ``con_lai``, ``han``, ``doan``) are documented and defined in
``render/filters.py``; where templates are found and the environment that loads them, in
``render/loader.py``; HTML sanitising and plain titles, in ``render/sanitise.py``.  Their public
names stay importable from here.

Template errors name the template file and line (syntax errors, a missing
variable, an unknown filter or test, a filter given the wrong value).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from ..errors import InputError
from ..models import nfc, utcnow
from .filters import days_left, deadline_phrase, paragraphs, vn_date, vn_number
from .loader import FORMAT_EXT, available, environment, template_name
from .sanitise import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, DROPPED_WITH_CONTENT, URL_SCHEMES, plain_title, sanitise

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "DROPPED_WITH_CONTENT", "FORMAT_EXT", "LIMITS", "TITLE_LIMIT",
           "URL_SCHEMES", "available", "days_left", "deadline_phrase", "environment", "paragraphs", "plain_title",
           "render", "sanitise", "template_name", "vn_date", "vn_number"]

#: Longest body each format accepts (Graph API: 63,206 characters per post).
LIMITS = {"portal": 200_000, "facebook": 63_206}
TITLE_LIMIT = 250
#: Code objects of Jinja's ``@internalcode`` functions (skipped when looking for the template line).
_INTERNAL_CODE: set[Any] = getattr(jinja2.utils, "internal_code", set())
#: What a template's own fault raises while it runs: a filter given the wrong kind of value, {{ 1 / 0 }},
#: {% include %} of a missing file, an unknown filter in a branch... (not ours: named with its file and line).
_TEMPLATE_FAULTS = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def render(dirs: Sequence[Path], name: str, fmt: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render template *name* for *fmt*; returns ``(title, body)``, both NFC.

    *context* may carry ``today`` (the publication day in the display zone);
    without it, today's date in UTC is used.
    """
    rel = template_name(dirs, name, fmt)
    if rel is None:
        raise InputError("render.no_template", name=name, format=fmt, available=", ".join(available(dirs)))
    if context.get("today") is None:
        context = {**context, "today": utcnow().date()}
    module = _module(environment(tuple(dirs)), rel, context)
    title, body = _output(rel, module, context)
    _check_limits(rel, fmt, title, body)
    return title, body


def _module(env: jinja2.Environment, rel: str, context: dict[str, Any]) -> Any:
    """The template run with *context*; its faults as InputErrors naming the file (and line) used."""
    file = rel
    try:
        template = env.get_template(rel)
        file = template.filename or rel  # the copy actually used: the user's or the built-in one
        return template.make_module(context)
    except jinja2.TemplateSyntaxError as exc:  # also an unknown filter or test (TemplateAssertionError)
        raise InputError("render.syntax", file=exc.filename or rel, line=exc.lineno, detail=exc.message) from None
    except jinja2.UndefinedError as exc:
        raise _undefined(exc, file) from None
    except _TEMPLATE_FAULTS as exc:
        raise _failed(exc, file) from None


def _output(rel: str, module: Any, context: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of a run template: NFC, an HTML body sanitised and its title made plain text."""
    html = rel.endswith(".html")
    title_value = getattr(module, "title", context["policy"]["title"])
    title = nfc(plain_title(title_value) if html else str(title_value)).strip()
    raw = str(module)
    return title, nfc(sanitise(raw) if html else raw).strip() + "\n"


def _undefined(exc: jinja2.UndefinedError, file: str) -> InputError:
    where, line = _where(exc, file)
    if line is None:
        return InputError("render.undefined", file=where, detail=exc.message)
    return InputError("render.undefined_at", file=where, line=line, detail=exc.message)


def _failed(exc: BaseException, file: str) -> InputError:
    where, line = _where(exc, file)
    detail = f"{type(exc).__name__}: {exc}"
    if line is None:
        return InputError("render.failed", file=where, detail=detail)
    return InputError("render.failed_at", file=where, line=line, detail=detail)


def _where(exc: BaseException, file: str) -> tuple[str, int | None]:
    """The template file and line where *exc* was raised (the innermost template frame).

    Jinja does not rewrite the traceback of ``make_module``, but each frame of
    compiled template code has its template in ``__jinja_template__``, which
    maps the Python line back to the template line.  Frames of Jinja's own
    ``@internalcode`` helpers are skipped, as Jinja's traceback rewriting does.
    """
    found: tuple[str, int | None] = (file, None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if tb.tb_frame.f_code in _INTERNAL_CODE:
            pass  # e.g. the stub that raises "no filter named ...": defined at the top of the template
        elif isinstance(template, jinja2.Template):
            found = (template.filename or template.name or file, template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return found


def _check_limits(rel: str, fmt: str, title: str, body: str) -> None:
    if len(body) > LIMITS[fmt]:
        raise InputError("render.too_long", file=rel, length=len(body), limit=LIMITS[fmt])
    if not title or len(title) > TITLE_LIMIT:
        raise InputError("render.bad_title", file=rel, length=len(title), limit=TITLE_LIMIT)
