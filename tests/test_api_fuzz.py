"""The JSON API under a property-based fuzzer: schemathesis against the app's own OpenAPI document.

In-process (ASGI, no socket), on SQLite with real data: two policies, a
published delivery, a failed one (its deadline passed), a queued one, a draft
post.  Every operation of ``/api/openapi.json`` is called with generated
parameters and bodies, authenticated as an admin by an API token (so unsafe
methods need no CSRF token and every route is reachable).  Checked on every
answer: no server error (5xx), a status code the document declares for the
operation, a body that matches the declared schema, the declared content type.

Bounded: 25 examples per operation, no deadline (argon2 and rendering are
slow on purpose); it runs in well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from publisher import posts, tokens
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.models import utcnow
from publisher.web import create_app
from publisher.web.app import OPENAPI_URL

from .conftest import POLICY
from .helpers import add_policy, approved_post
from .webtools import SECRET, TestClient, add_user

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def _data(app: App) -> None:
    """Some real data, made through the library as people make it."""
    add_policy(app)
    add_policy(app, "7/2026/QĐ-UBND", agency="xa")
    approved_post(app, channels=("portal",))  # due now: the dispatcher publishes it
    now = utcnow()
    approved_post(app, channels=("fanpage",), at=now - timedelta(hours=2),
                  deadline=(now - timedelta(hours=1)).isoformat())  # its deadline passed: failed
    assert Dispatcher(app, "may-1").run_once() == {"published": 1, "failed": 1}
    approved_post(app, channels=("fanpage",), at=now + timedelta(days=2))  # queued
    posts.new_post(app, "bien-tap", {"policy": POLICY["code"], "agency": "tinh", "channels": ["portal"],
                                     "at": (now + timedelta(days=3)).isoformat()})  # a draft


@pytest.fixture
def site(project: Path) -> Iterator[tuple[Any, str]]:
    """The web app on SQLite with data, and an admin's API token."""
    app = App.open(project / "config.toml")
    _data(app)
    add_user(app, "quan-tri", "admin")
    _, token = tokens.create(app, "quan-tri", "quan-tri", label="fuzz")
    yield create_app(app, secret=SECRET), token
    app.close()


@pytest.fixture
def api_schema(site: tuple[Any, str]) -> Any:
    return schemathesis.openapi.from_asgi(OPENAPI_URL, site[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_openapi_promises(case: Any, site: tuple[Any, str]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {site[1]}"}, checks=CHECKS)


def test_a_json_body_that_is_not_utf8_gets_an_answer_the_document_declares(site: tuple[Any, str]) -> None:
    """What the fuzzer found first, replayed without chance (known bug, reported; not in a file this slice owns).

    FastAPI answers a body it cannot decode as text (``\\x1a\\xff``) with its own
    ``HTTPException(400, "There was an error parsing the body")``; our handler
    turns it into ``{"detail": "Lỗi 400"}``.  The document declares no 400 for
    the deliveries' cancel, and for the policies' POST/PATCH declares 400 as
    ``InvalidInput``, whose ``field`` is required.  Either is a broken promise
    to a script generated from the document.
    """
    web, token = site
    spec = web.openapi()
    client = TestClient(web)
    broken = []
    for method, path in (("POST", "/api/v1/policies"), ("PATCH", "/api/v1/policies/1"),
                         ("POST", "/api/v1/deliveries/1/cancel")):
        answer = client.request(method, path, content=b"\x1a\xff",
                                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        template = path.replace("/1", "/{pid}" if "policies" in path else "/{delivery_id}", 1)
        declared = spec["paths"][template][method.lower()]["responses"]
        status = str(answer.status_code)
        if status not in declared:
            broken.append(f"{method} {path}: {status} {answer.text} is not declared ({', '.join(declared)})")
        elif status == "400" and "field" not in answer.json():
            broken.append(f"{method} {path}: 400 {answer.text} lacks the declared required 'field'")
    assert broken == [], "\n".join(broken)
