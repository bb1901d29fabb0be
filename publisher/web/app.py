"""The web application: one factory that wires the walls, the pages and the API together.

``create_app(app)`` serves an opened :class:`~publisher.context.App` (the
tests give it theirs); ``app_from_env()`` opens one from the environment for
a production ASGI server::

    PUBLISHER_CONFIG=/etc/publisher/config.toml PUBLISHER_WEB_SECRET=... \\
        uvicorn --factory publisher.web:app_from_env --host 127.0.0.1 --port 8080

Swagger/ReDoc pages are off: they load their scripts from a CDN, which the
Content-Security-Policy (and the rule "no CDN") forbids.  The OpenAPI
document itself is at ``/api/openapi.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import jinja2
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..context import App
from ..errors import ConfigError
from . import errors, routes
from .options import LOGIN_WINDOW_SECONDS, MIN_SECRET, WebOptions, session_secret, web_options
from .ratelimit import LoginLimiter
from .security import SecurityHeaders, csrf_guard
from .sessions import SessionCodec
from .templating import environment

STATIC = Path(__file__).resolve().parent / "static"
OPENAPI_URL = "/api/openapi.json"


@dataclass
class Site:
    """Everything a request handler needs, kept on ``FastAPI.state.site``."""

    app: App
    options: WebOptions
    sessions: SessionCodec
    limiter: LoginLimiter
    pages: jinja2.Environment


def create_app(app: App, *, secret: str | None = None, options: WebOptions | None = None,
               owns_app: bool = False) -> FastAPI:
    """The ASGI application serving *app*; *secret* defaults to ``[web]``'s env variable or file.

    With *owns_app*, the App is closed when the server shuts down.
    """
    options = options or web_options(app.config)
    key = session_secret(options) if secret is None else secret
    if len(key) < MIN_SECRET:
        raise ConfigError("web.short_secret", path="web.secret_env", minimum=MIN_SECRET)
    web = FastAPI(title="publisher", version=__version__, openapi_url=OPENAPI_URL, docs_url=None,
                  redoc_url=None, dependencies=[Depends(csrf_guard)], lifespan=_lifespan(app, owns_app))
    web.state.site = Site(app=app, options=options, sessions=SessionCodec(key, options.session_seconds),
                          limiter=LoginLimiter(app.engine, options.login_attempts, LOGIN_WINDOW_SECONDS),
                          pages=environment(app.config.template_dirs))
    web.add_middleware(SecurityHeaders)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(web)
    routes.include(web)
    return web


def _lifespan(app: App, owns_app: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Close the App (database pool, channels) at shutdown when this server opened it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_app:
                app.close()

    return lifespan


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: the App from ``$PUBLISHER_CONFIG`` (or ./config.toml), secret from [web]."""
    opened = App.open()
    try:
        return create_app(opened, owns_app=True)
    except BaseException:
        opened.close()
        raise
