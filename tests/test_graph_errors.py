"""The Graph error table, one test per row, and the transport error mapping over real sockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta

import pytest
import requests

from publisher.channels import graph_errors
from publisher.channels.http import send
from publisher.errors import (
    AmbiguousError,
    AuthError,
    ContentRejected,
    PermanentError,
    RateLimited,
    TransientError,
)
from publisher.models import utcnow

NOW = utcnow()


def _error(status, code, subcode=None, message="msg"):
    body = {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}}
    if subcode is not None:
        body["error"]["error_subcode"] = subcode
    return graph_errors.parse_error(status, json.dumps(body))


ROWS = [
    # (status, code, subcode, write, expected class)
    *[(400, code, None, True, RateLimited) for code in (4, 17, 32, 341, 613, 80001)],
    (400, 368, 1390008, True, RateLimited),
    (500, 1, None, True, AmbiguousError),
    (503, 2, None, True, AmbiguousError),
    (502, None, None, True, AmbiguousError),
    (500, 32, None, True, AmbiguousError),  # a 5xx may have done the work, whatever its code says
    (500, 32, None, False, RateLimited),
    (500, 1, None, False, TransientError),  # a read changes nothing: plain retry
    (400, 190, None, True, AuthError),
    (400, 190, 463, True, AuthError),
    (400, 190, 460, True, AuthError),
    (403, 10, None, True, AuthError),
    (403, 200, None, True, AuthError),
    (403, 299, None, True, AuthError),
    (400, 100, None, True, ContentRejected),
    (400, 324, None, True, ContentRejected),
    (400, 506, None, True, ContentRejected),
    (400, 1609005, None, True, ContentRejected),
    (400, 368, None, True, PermanentError),
    (400, 12345, None, True, PermanentError),
]


@pytest.mark.parametrize(("status", "code", "subcode", "write", "expected"), ROWS,
                         ids=[f"{r[0]}-{r[1]}-{r[2]}-{'w' if r[3] else 'r'}" for r in ROWS])
def test_every_row_of_the_table(status, code, subcode, write, expected):
    found = graph_errors.classify(_error(status, code, subcode, "Graph says no"), write=write, now=NOW)
    assert type(found) is expected
    assert "Graph says no" in str(found)


def test_rate_limits_carry_the_time_meta_gives():
    found = graph_errors.classify(_error(400, 32), write=True, now=NOW, regain_seconds=300)
    assert found.retry_at == NOW + timedelta(seconds=300)
    assert graph_errors.classify(_error(400, 32), write=True, now=NOW).retry_at is None  # backoff decides


def test_auth_errors_tell_staff_what_to_do():
    assert "renew the Page access token" in str(graph_errors.classify(_error(400, 190, 463), write=True, now=NOW))


def test_a_body_that_is_not_json_is_still_classified():
    error = graph_errors.parse_error(502, "<html>Bad Gateway</html>")
    assert error.code is None and "Bad Gateway" in error.message
    assert isinstance(graph_errors.classify(error, write=True, now=NOW), AmbiguousError)


def test_usage_headers_take_the_highest_figure_and_the_regain_time():
    headers = {
        "X-App-Usage": json.dumps({"call_count": 12, "total_time": 40, "total_cputime": 7}),
        "X-Business-Use-Case-Usage": json.dumps({"111": [{"type": "pages", "call_count": 95, "total_time": 3,
                                                          "total_cputime": 2,
                                                          "estimated_time_to_regain_access": 4}]}),
    }
    assert graph_errors.usage(headers, "111") == graph_errors.Usage(percent=95.0, regain_seconds=240.0)
    assert graph_errors.usage(headers, "222").percent == 40.0  # another Page's figures are not ours
    assert graph_errors.usage({"X-App-Usage": "not json"}, "111") == graph_errors.Usage(0.0, 0.0)


# --- transport errors, over real sockets -----------------------------------------------------

class OneShotServer:
    """Accepts connections and misbehaves in one chosen way."""

    def __init__(self, behaviour: str):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.behaviour = behaviour
        self.received = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v26.0/111/feed"

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.recv(65536)
        self.received.set()
        if self.behaviour == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()
        elif self.behaviour == "silent":
            time.sleep(2)
            conn.close()


def _free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_connection_refused_is_transient_even_for_a_write():
    with pytest.raises(TransientError, match="cannot connect"):
        send(requests.Session(), "POST", f"http://127.0.0.1:{_free_port()}/x", write=True, timeout=2)


@pytest.mark.parametrize(("write", "expected"), [(True, AmbiguousError), (False, TransientError)])
def test_a_reset_after_sending_is_ambiguous_for_writes_only(write, expected):
    server = OneShotServer("reset")
    with pytest.raises(expected):
        send(requests.Session(), "POST" if write else "GET", server.url, write=write, data={"message": "x"},
             timeout=(2, 2))
    assert server.received.is_set()  # the request did reach the peer


def test_a_read_timeout_after_sending_is_ambiguous():
    server = OneShotServer("silent")
    with pytest.raises(AmbiguousError, match="read timeout"):
        send(requests.Session(), "POST", server.url, write=True, data={"message": "x"}, timeout=(2, 0.3))
