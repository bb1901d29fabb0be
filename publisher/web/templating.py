"""Server-rendered pages: one Jinja2 environment per web app, every page escaped.

The loader is a ``ChoiceLoader``, as for posts (``render/text.py``): the
``web/`` folder of each template folder of the configuration first (the
user's ``templates/web/`` overrides a page by its name), then the pages that
ship in ``publisher/web/templates``.  Autoescape is on for every page, and
``StrictUndefined`` makes a page that forgets a variable fail in the tests
instead of showing a blank.

Pages get their words through ``t`` in their context: the request's own
:class:`~publisher.web.language.Speaker`, never the process-global language.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ..render.text import vn_date, vn_number
from .language import speaker
from .sessions import session_of

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment(template_dirs: Sequence[Path]) -> jinja2.Environment:
    """The pages' environment: the user's ``<dir>/web`` folders, then the built-in pages."""
    folders = [str(d / "web") for d in template_dirs] + [str(PACKAGE_TEMPLATES)]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # every page is HTML: nothing a user typed reaches the page unescaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ngay"] = vn_date  # the same filters posts use, so staff read dates the same way
    env.filters["so"] = vn_number
    return env


def base_context(request: Request) -> dict[str, Any]:
    """What every page needs: the words, the language, who is logged in, the CSRF token."""
    words = speaker(request)
    session = session_of(request)
    return {
        "t": words.t,
        "lang": words.lang,
        "user": getattr(request.state, "user", None),
        "csrf_token": session.csrf if session else "",
        "path": request.url.path,
    }


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Page *name* for *request*, with the base context and *context* on top."""
    env: jinja2.Environment = request.app.state.site.pages
    html = env.get_template(name).render({**base_context(request), **(context or {})})
    return HTMLResponse(html, status_code=status_code, headers=headers)
