"""The routes, one module per area; each module has a ``router``.

Pages to come (policies, compose, approvals, calendar, deliveries, audit)
each get a module here and a line below.
"""

from __future__ import annotations

from fastapi import FastAPI

from . import admin_channels, admin_users, api, approvals, audit, auth, calendar, compose, deliveries, home, policies

ROUTERS = (auth.router, home.router, api.router, policies.router, deliveries.router, approvals.router, audit.router,
           compose.router, calendar.router, admin_users.router, admin_channels.router)


def include(web: FastAPI) -> None:
    """Add every area's routes to *web* (the app-wide CSRF dependency applies to all of them)."""
    for router in ROUTERS:
        web.include_router(router)
