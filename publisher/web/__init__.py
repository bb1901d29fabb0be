"""The web face of publisher: pages for staff, approvers and auditors, and a JSON API.

Vietnamese first (English by a switch), server-rendered, no CDN.  It sits with
the CLI and the daemon at the top of the layers: it parses requests, asks
``access.can`` and calls the operations below; no business rule lives here.

``create_app(app)`` builds the ASGI application; ``app_from_env`` is the
factory for a production server (``uvicorn --factory publisher.web:app_from_env``);
``publisher web`` serves it with uvicorn.
"""

from __future__ import annotations

from .app import Site, app_from_env, create_app

__all__ = ["Site", "app_from_env", "create_app"]
