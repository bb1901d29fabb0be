"""A fake Facebook Graph API (Pages) on 127.0.0.1, with faults we can inject.

Tests run our real ``requests``-based Facebook channel against this real HTTP
server.  It follows Meta's documented Pages API closely enough that a client
which works here has handled what Facebook really answers — and it can fail in
every way that matters for "published exactly once": 5xx before or after the
post is made, slow answers, connection resets, throttling, expired tokens.

What is modelled (state and rules in :mod:`tests.fakegraph.state`)::

    client ──HTTP──▶ /v{N}.{M}/... (any version; unversioned too)
                      │ read body (form, multipart, JSON) · log the request
                      │ latency · faults "before" (answer/reset, nothing made)
                      │ token: Authorization: Bearer | access_token in form body
                      │        | in the query (accepted, but recorded)
                      │ appsecret_proof = HMAC-SHA256(app_secret, token) hex
                      │ page usage window → 80001 (or throttle_code) when over
                      ▼
      POST /{page}/feed            message, link, published, scheduled_publish_time,
                                   attached_media[i]={"media_fbid": photo}  → {"id"}
      POST /{page}/photos          multipart source (JPEG/PNG magic, ≤ 4 MB),
                                   message, published=false → {"id"[, "post_id"]}
      GET  /{page}/feed            live posts, newest first, since/until, limit
           /{page}/published_posts (25, max 100), cursors before/after + next
      GET  /{page}/scheduled_posts scheduled, not yet due
      GET  /{post|photo|page}      fields=...;  POST /{post} message,
                                   scheduled_publish_time, is_published;
                                   DELETE /{post|photo} → {"success": true}
      GET  /me                     the token's page;  GET /debug_token?input_token=
      POST /  batch=[{method, relative_url, body}, ...]  up to 50 operations, each run
                                   as above (same faults, token, usage) → [{code, headers, body}]
                      │ faults "after": 500, slow answer, reset — post already made
                      ▼
      every answer: X-App-Usage, X-Business-Use-Case-Usage (percent per page,
      estimated_time_to_regain_access in minutes), JSON errors
      {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}

Read-after-write lag (``lag`` seconds): a post exists at once (``posts()``,
updates, deletes) but the reads above only see it after the lag.  Scheduled
posts become live (in ``feed``, with ``created_time`` = their time) once their
time passes on ``clock``.  ``duplicate_window`` > 0 turns on Meta's 506
"Duplicate status message" for the same text on the same page.

Documentation followed (Meta for Developers):

- Pages API, Posts guide — publish, schedule, update, delete; the 10 minutes
  to 30 days window for ``scheduled_publish_time`` (older Feed reference pages
  said 6 months, some 75 days; the current guide says 30 days, so that is the
  default here — ``schedule_max`` changes it):
  https://developers.facebook.com/docs/pages-api/posts
- Page Feed, Page Photos, Page Scheduled Posts references:
  https://developers.facebook.com/docs/graph-api/reference/page/feed,
  .../reference/page/photos, .../reference/page/scheduled_posts
- Handling Errors — the error object, codes 1, 2, 4, 17, 100, 190 (subcodes
  460, 463), 200–299, 341, 368, 506, 1609005:
  https://developers.facebook.com/docs/graph-api/guides/error-handling
- Rate Limits — X-App-Usage, X-Business-Use-Case-Usage (type "pages",
  call_count / total_cputime / total_time percentages,
  estimated_time_to_regain_access in minutes), codes 4, 17, 32, 613, 80001:
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting
- Securing requests (appsecret_proof), Access Token Debugger (debug_token):
  https://developers.facebook.com/docs/graph-api/securing-requests,
  https://developers.facebook.com/docs/graph-api/reference/debug_token
- Batch Requests: https://developers.facebook.com/docs/graph-api/batch-requests

Approximations (documented nowhere precisely, so chosen here): the exact text
of parameter errors (code 100), of the too-large photo error (324 here), and
that ``paging.next`` carries ``access_token`` only when the request had it in
its query; usage percentages grow linearly with calls per ``calls_per_window``
(Meta's real quota depends on engaged users); ``strtotime`` phrases for times
are not accepted, only unix seconds and ISO 8601.

Use in-process::

    with FakeGraph(pages={"111": {"name": "UBND tỉnh Thử", "token": "EAAB-tok1"}}) as fake:
        fake.add_fault("5xx_after", path=r"/feed$")
        ...  # point the channel's base_url at fake.url
        assert len(fake.posts()) == 1

or as a process (the daemon tests)::

    python -m tests.fakegraph --port 0 --pages pages.json   # first stdout line: its URL

and steer it over HTTP under ``/_fake/`` (never counted as Graph calls):
``POST/GET/DELETE /_fake/faults``, ``POST /_fake/tokens``, ``GET /_fake/posts``,
``GET /_fake/photos``, ``GET /_fake/requests``, ``POST /_fake/config``,
``POST /_fake/reset``, ``GET /_fake/health``.

Modules: ``fake`` (:class:`FakeGraph`), ``cli`` and ``__main__`` (the
process); HTTP: ``server`` (plumbing), ``handler`` (one request end to end),
``routes`` (Graph endpoints), ``batch`` (batch requests), ``control`` (``/_fake/``), ``multipart`` (bodies);
state: ``state`` (:class:`GraphState`: lock, settings, log), ``faults``,
``tokens``, ``usage``, ``writes``, ``reads``, ``records`` (Page, Post, Photo),
``params`` (times, fields, cursors), ``errors`` (:class:`GraphError`).
"""

from __future__ import annotations

from .cli import main
from .errors import JSON, GraphError
from .fake import FakeGraph
from .faults import Fault
from .state import GraphState

__all__ = ["FakeGraph", "Fault", "GraphError", "GraphState", "JSON", "main"]
