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

Filters (registered in :func:`environment`):

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

Dates given as text (``--var han=2024-01-16``) are read as ISO dates.

HTML output is sanitised with nh3 after rendering (autoescaping protects
variables; sanitising is the second wall against a ``<script>`` in an edited
template): only :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES` survive,
links get ``rel="noopener noreferrer"``, URLs must be http, https or mailto
(or relative).  The title of an HTML post is plain text: tags are removed and
entities decoded, so a channel must escape it where it is HTML.

Template errors name the template file and line (syntax errors, a missing
variable, an unknown filter or test, a filter given the wrong value).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import markupsafe
import nh3

from ..errors import InputError
from ..models import nfc, utcnow

FORMAT_EXT = {"portal": "html", "facebook": "txt"}
#: Longest body each format accepts (Graph API: 63,206 characters per post).
LIMITS = {"portal": 200_000, "facebook": 63_206}
TITLE_LIMIT = 250

#: Tags an HTML article may keep after sanitising.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark", "abbr",
    "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "a", "figure", "figcaption", "img",
    "table", "caption", "thead", "tbody", "tr", "th", "td",
})
#: Attributes each tag may keep (no ``on*``, no ``style``; ``rel`` is set by the sanitiser).
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "svg", "math", "iframe", "object", "embed",
                                  "noscript", "template", "textarea"})
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
#: Code objects of Jinja's ``@internalcode`` functions (skipped when looking for the template line).
_INTERNAL_CODE: set[Any] = getattr(jinja2.utils, "internal_code", set())


def template_name(dirs: Sequence[Path], name: str, fmt: str) -> str | None:
    """The loader name of template *name* for *fmt*, or None if no folder has it."""
    rel = f"posts/{name}.{fmt}.{FORMAT_EXT[fmt]}"
    return rel if any((d / rel).is_file() for d in dirs) else None


def available(dirs: Sequence[Path]) -> list[str]:
    """Names of the templates found in any folder (for help and errors)."""
    found = {p.name.split(".")[0] for d in dirs for p in (d / "posts").glob("*.*.*")}
    return sorted(found)


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
    env.filters["con_lai"] = _con_lai
    env.filters["han"] = _han
    env.filters["doan"] = paragraphs
    return env


def sanitise(html: str) -> str:
    """The second wall: keep only article markup, safe attributes and safe URLs."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain_title(value: Any) -> str:
    """An HTML post's title as plain text: tags removed, entities decoded, spaces collapsed."""
    text = value.unescape() if isinstance(value, markupsafe.Markup) else str(value)
    previous = None
    while previous != text:  # '<<b>script>' needs two passes
        previous, text = text, _TAG.sub("", text)
    return " ".join(text.split())


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
    env = environment(tuple(dirs))
    file = rel
    try:
        template = env.get_template(rel)
        file = template.filename or rel  # the copy actually used: the user's or the built-in one
        module = template.make_module(context)
    except jinja2.TemplateSyntaxError as exc:  # also an unknown filter or test (TemplateAssertionError)
        raise InputError("render.syntax", file=exc.filename or rel, line=exc.lineno, detail=exc.message) from None
    except jinja2.UndefinedError as exc:
        where, line = _where(exc, file)
        if line is None:
            raise InputError("render.undefined", file=where, detail=exc.message) from None
        raise InputError("render.undefined_at", file=where, line=line, detail=exc.message) from None
    except (jinja2.TemplateError,  # {% include %} of a missing file, an unknown filter in a branch...
            # a filter given the wrong kind of value, {{ 1 / 0 }}...: the template's fault, not ours
            TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        where, line = _where(exc, file)
        detail = f"{type(exc).__name__}: {exc}"
        if line is None:
            raise InputError("render.failed", file=where, detail=detail) from None
        raise InputError("render.failed_at", file=where, line=line, detail=detail) from None
    html = rel.endswith(".html")
    title_value = getattr(module, "title", context["policy"]["title"])
    title = nfc(plain_title(title_value) if html else str(title_value)).strip()
    raw = str(module)
    body = nfc(sanitise(raw) if html else raw).strip() + "\n"
    _check_limits(rel, fmt, title, body)
    return title, body


def _check_limits(rel: str, fmt: str, title: str, body: str) -> None:
    if len(body) > LIMITS[fmt]:
        raise InputError("render.too_long", file=rel, length=len(body), limit=LIMITS[fmt])
    if not title or len(title) > TITLE_LIMIT:
        raise InputError("render.bad_title", file=rel, length=len(title), limit=TITLE_LIMIT)
