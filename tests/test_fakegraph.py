"""The fake Graph API answers like Meta documents — shown with plain ``requests``.

Nothing from ``publisher`` is used here: these tests pin down the fake itself
(endpoints, error JSON and status codes, usage headers, faults, lag, the
control API, the separate-process mode), so tests of our channel can trust it.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakegraph import FakeGraph

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"111": {"name": "UBND tỉnh Thử", "token": "EAAB-tok1"}, "222": {"name": "UBND xã Thử", "token": "EAAB-tok2"}}
AUTH = {"Authorization": "Bearer EAAB-tok1"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\r\n--not-a-boundary\r\n" * 64
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


class Clock:
    """A wall clock the test moves by hand (each reading 1 ms later, so posts sort by creation)."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 0.001
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph(PAGES) as server:
        yield server


def api(fake: FakeGraph, path: str) -> str:
    return f"{fake.graph_url()}/{path}"


def post_feed(fake: FakeGraph, message: str = "Lấy ý kiến dự thảo", **data: Any) -> requests.Response:
    return requests.post(api(fake, "111/feed"), data={"message": message, **data}, headers=AUTH, timeout=5)


def upload(fake: FakeGraph, content: bytes = PNG, name: str = "anh.png", **data: Any) -> requests.Response:
    return requests.post(api(fake, "111/photos"), data=data, files={"source": (name, content, "image/png")},
                         headers=AUTH, timeout=5)


def error_of(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= set(error)
    assert isinstance(error["code"], int) and error["fbtrace_id"]
    return error


def usage(response: requests.Response, page: str = "111") -> tuple[dict[str, int], dict[str, int]]:
    app = json.loads(response.headers["X-App-Usage"])
    assert set(app) == {"call_count", "total_cputime", "total_time"}
    buc = json.loads(response.headers["X-Business-Use-Case-Usage"])
    (entry,) = buc[page]
    assert entry["type"] == "pages"
    assert {"call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"} <= set(entry)
    return app, entry


# -- publishing ----------------------------------------------------------------------


def test_feed_post_is_created_read_back_and_recorded(fake: FakeGraph) -> None:
    answer = post_feed(fake, "Dự thảo Nghị quyết 12/2026", link="https://tinh.example.gov.vn/du-thao/12")
    assert answer.status_code == 200
    post_id = answer.json()["id"]
    assert re.fullmatch(r"111_\d+", post_id) and set(answer.json()) == {"id"}

    node = requests.get(api(fake, post_id), params={"fields": "id,message,created_time,permalink_url"},
                        headers=AUTH, timeout=5).json()
    assert node["id"] == post_id and node["message"] == "Dự thảo Nghị quyết 12/2026"
    assert GRAPH_TIME.match(node["created_time"])
    assert node["permalink_url"].startswith("https://www.facebook.com/111/posts/")

    (record,) = fake.posts()
    assert record["id"] == post_id and record["page"] == "111" and record["published"]
    assert record["link"] == "https://tinh.example.gov.vn/du-thao/12" and not record["deleted"]


def test_any_version_and_unversioned_paths_work(fake: FakeGraph) -> None:
    for base in (f"{fake.url}/v19.0", f"{fake.url}/v26.0", fake.url):
        assert requests.get(f"{base}/me", headers=AUTH, timeout=5).json() == {"id": "111", "name": "UBND tỉnh Thử"}


def test_published_photo_makes_a_post_and_unpublished_one_does_not(fake: FakeGraph) -> None:
    shown = upload(fake, message="Ảnh minh họa").json()
    assert set(shown) == {"id", "post_id"} and shown["post_id"].startswith("111_")
    kept = upload(fake, JPEG, "anh.jpg", published="false").json()
    assert set(kept) == {"id"}

    feed = requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).json()["data"]
    assert [p["id"] for p in feed] == [shown["post_id"]] and feed[0]["message"] == "Ảnh minh họa"
    photos = {p["id"]: p for p in fake.photos()}
    assert photos[shown["id"]]["published"] and not photos[kept["id"]]["published"]
    assert photos[shown["id"]]["size"] == len(PNG) and photos[kept["id"]]["content_type"] == "image/jpeg"


def test_several_photos_attach_to_one_feed_post(fake: FakeGraph) -> None:
    ids = [upload(fake, published="false").json()["id"] for _ in range(3)]
    data = {f"attached_media[{i}]": json.dumps({"media_fbid": media}) for i, media in enumerate(ids)}
    post_id = post_feed(fake, "Ba ảnh", **data).json()["id"]
    (record,) = fake.posts()
    assert record["id"] == post_id and record["attached_media"] == ids
    node = requests.get(api(fake, post_id), params={"fields": "id,attachments"}, headers=AUTH, timeout=5).json()
    subs = node["attachments"]["data"][0]["subattachments"]["data"]
    assert [s["target"]["id"] for s in subs] == ids


def test_attached_media_must_be_an_unpublished_photo_of_the_same_page(fake: FakeGraph) -> None:
    published = upload(fake).json()["id"]
    for media in (published, "999999"):
        answer = post_feed(fake, "x", **{"attached_media[0]": json.dumps({"media_fbid": media})})
        assert answer.status_code == 400 and error_of(answer)["code"] == 100
    other = requests.post(api(fake, "222/photos"), data={"published": "false"},
                          files={"source": ("a.png", PNG, "image/png")},
                          headers={"Authorization": "Bearer EAAB-tok2"}, timeout=5).json()["id"]
    answer = post_feed(fake, "x", **{"attached_media[0]": json.dumps({"media_fbid": other})})
    assert error_of(answer)["code"] == 100
    assert len(fake.posts()) == 1  # only the published photo's own post


def test_photo_must_be_a_jpeg_or_png_of_at_most_4_mb(fake: FakeGraph) -> None:
    gif = upload(fake, b"GIF89a" + b"\x00" * 100, "anh.gif")
    assert gif.status_code == 400 and error_of(gif)["code"] == 324
    missing = requests.post(api(fake, "111/photos"), data={"message": "no file"}, headers=AUTH, timeout=5)
    assert error_of(missing) == {**error_of(missing), "code": 324, "message": "(#324) Requires upload file"}
    big = upload(fake, PNG + b"\x00" * (4 * 1024 * 1024))
    assert big.status_code == 400 and error_of(big)["code"] == 324
    assert fake.photos() == [] and fake.posts() == []


def test_feed_post_needs_content_and_a_valid_link(fake: FakeGraph) -> None:
    empty = requests.post(api(fake, "111/feed"), data={}, headers=AUTH, timeout=5)
    assert empty.status_code == 400 and error_of(empty)["code"] == 100
    assert error_of(post_feed(fake, "x", link="not a url"))["code"] == 100


# -- scheduling ----------------------------------------------------------------------------


def test_scheduled_post_is_listed_until_its_time_then_in_the_feed() -> None:
    clock = Clock()
    with FakeGraph(PAGES, clock=clock) as fake:
        when = int(clock.now) + 3600
        post_id = post_feed(fake, "Hẹn giờ", published="false", scheduled_publish_time=str(when)).json()["id"]
        scheduled = requests.get(api(fake, "111/scheduled_posts"),
                                 params={"fields": "id,message,scheduled_publish_time"}, headers=AUTH, timeout=5)
        assert scheduled.json()["data"] == [{"id": post_id, "message": "Hẹn giờ", "scheduled_publish_time": when}]
        assert requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).json()["data"] == []
        assert fake.posts()[0]["scheduled"] and not fake.posts()[0]["published"]

        clock.advance(3601)  # Meta publishes it at its time
        assert requests.get(api(fake, "111/scheduled_posts"), headers=AUTH, timeout=5).json()["data"] == []
        (live,) = requests.get(api(fake, "111/feed"), params={"fields": "id,created_time"}, headers=AUTH,
                               timeout=5).json()["data"]
        assert live["id"] == post_id and live["created_time"] == time.strftime("%Y-%m-%dT%H:%M:%S+0000",
                                                                                 time.gmtime(when))


@pytest.mark.parametrize("ahead", [60, 9 * 60, 31 * 86400])
def test_scheduled_time_must_be_10_minutes_to_30_days_ahead(ahead: int) -> None:
    clock = Clock()
    with FakeGraph(PAGES, clock=clock) as fake:
        answer = post_feed(fake, published="false", scheduled_publish_time=str(int(clock.now) + ahead))
        error = error_of(answer)
        assert answer.status_code == 400 and error["code"] == 100
        assert error["message"] == "(#100) The specified scheduled publish time is invalid."
        assert fake.posts() == []


def test_scheduled_time_only_with_published_false(fake: FakeGraph) -> None:
    answer = post_feed(fake, scheduled_publish_time=str(int(time.time()) + 3600))
    assert answer.status_code == 400 and error_of(answer)["code"] == 100


def test_update_and_delete_a_post(fake: FakeGraph) -> None:
    when = int(time.time()) + 3600
    post_id = post_feed(fake, "cũ", published="false", scheduled_publish_time=str(when)).json()["id"]
    update = requests.post(api(fake, post_id), data={"message": "mới", "scheduled_publish_time": str(when + 60)},
                           headers=AUTH, timeout=5)
    assert update.json() == {"success": True}
    assert fake.posts()[0]["message"] == "mới" and fake.posts()[0]["scheduled_publish_time"] == when + 60
    assert requests.delete(api(fake, post_id), headers=AUTH, timeout=5).json() == {"success": True}
    gone = requests.get(api(fake, post_id), headers=AUTH, timeout=5)
    assert gone.status_code == 400 and error_of(gone)["code"] == 100 and error_of(gone)["error_subcode"] == 33
    assert fake.posts()[0]["deleted"]
    assert requests.get(api(fake, "111/scheduled_posts"), headers=AUTH, timeout=5).json()["data"] == []


# -- reading the feed -------------------------------------------------------------------------


def test_feed_pages_newest_first_with_cursors_and_next() -> None:
    with FakeGraph(PAGES, clock=Clock()) as fake:
        made = [post_feed(fake, f"bài {i}").json()["id"] for i in range(30)]
        first = requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).json()
        assert len(first["data"]) == 25  # default limit
        seen, url, params = [], api(fake, "111/feed"), {"limit": "7", "fields": "id,message"}
        while url:
            page = requests.get(url, params=params, headers=AUTH, timeout=5).json()
            seen += [p["id"] for p in page["data"]]
            assert set(page["paging"]["cursors"]) == {"before", "after"}
            url, params = page["paging"].get("next"), None
        assert seen == made[::-1]
        assert "access_token" not in first["paging"]["next"]  # the token came in a header
        assert len(requests.get(api(fake, "111/feed"), params={"limit": "500"}, headers=AUTH,
                                timeout=5).json()["data"]) == 30  # limit is clamped to 100


def test_feed_since_and_after_cursor() -> None:
    clock = Clock()
    with FakeGraph(PAGES, clock=clock) as fake:
        post_feed(fake, "cũ")
        clock.advance(3600)
        since = int(clock.now)
        newer = [post_feed(fake, f"mới {i}").json()["id"] for i in range(3)]
        data = requests.get(api(fake, "111/feed"), params={"since": str(since)}, headers=AUTH, timeout=5).json()
        assert [p["id"] for p in data["data"]] == newer[::-1]
        after = data["paging"]["cursors"]["after"]
        rest = requests.get(api(fake, "111/feed"), params={"after": after}, headers=AUTH, timeout=5).json()
        assert [p["message"] for p in rest["data"]] == ["cũ"] and "next" not in rest["paging"]


def test_lag_hides_a_new_post_from_reads_then_shows_it() -> None:
    with FakeGraph(PAGES, lag=0.4) as fake:
        post_id = post_feed(fake).json()["id"]
        assert fake.posts()[0]["id"] == post_id and not fake.posts()[0]["visible"]  # created at once
        assert requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).json()["data"] == []
        assert error_of(requests.get(api(fake, post_id), headers=AUTH, timeout=5))["error_subcode"] == 33
        time.sleep(0.5)
        assert [p["id"] for p in requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).json()["data"]] \
            == [post_id]
        assert requests.get(api(fake, post_id), headers=AUTH, timeout=5).status_code == 200


def test_unknown_fields_are_refused_like_graph(fake: FakeGraph) -> None:
    answer = requests.get(api(fake, "111/feed"), params={"fields": "id,nope"}, headers=AUTH, timeout=5)
    assert answer.status_code == 400 and "nonexisting field (nope)" in error_of(answer)["message"]


# -- tokens --------------------------------------------------------------------------------------


def test_token_in_the_query_is_accepted_but_recorded(fake: FakeGraph) -> None:
    assert requests.get(api(fake, "me"), params={"access_token": "EAAB-tok1"}, timeout=5).status_code == 200
    assert requests.get(api(fake, "me"), headers=AUTH, timeout=5).status_code == 200
    assert requests.post(api(fake, "111/feed"), data={"message": "body", "access_token": "EAAB-tok1"},
                         timeout=5).status_code == 200
    in_query, in_header, in_body = fake.requests()
    assert in_query["token_in_query"] and in_query["token_source"] == "query"
    assert not in_header["token_in_query"] and in_header["token_source"] == "header"
    assert "Authorization" in in_header["headers"]
    assert not in_body["token_in_query"] and in_body["token_source"] == "body"


def test_bad_missing_expired_rotated_and_foreign_tokens(fake: FakeGraph) -> None:
    bad = requests.get(api(fake, "me"), headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 400
    assert error_of(bad)["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert error_of(bad)["code"] == 190 and error_of(bad)["type"] == "OAuthException"
    assert error_of(requests.get(api(fake, "me"), timeout=5))["code"] == 104

    fake.expire_token("111")
    expired = error_of(post_feed(fake))
    assert (expired["code"], expired["error_subcode"]) == (190, 463)
    assert expired["message"].startswith("Error validating access token: Session has expired")

    fake.rotate_token("111", "EAAB-tok1-new")
    assert (error_of(post_feed(fake))["code"], error_of(post_feed(fake))["error_subcode"]) == (190, 460)
    assert requests.post(api(fake, "111/feed"), data={"message": "x"},
                         headers={"Authorization": "Bearer EAAB-tok1-new"}, timeout=5).status_code == 200

    foreign = requests.post(api(fake, "222/feed"), data={"message": "x"},
                            headers={"Authorization": "Bearer EAAB-tok1-new"}, timeout=5)
    assert foreign.status_code == 403 and error_of(foreign)["code"] == 200
    assert len(fake.posts()) == 1


def test_appsecret_proof_and_debug_token() -> None:
    import hashlib
    import hmac

    with FakeGraph(PAGES, app_id="42", app_secret="s3cret") as fake:
        good = hmac.new(b"s3cret", b"EAAB-tok1", hashlib.sha256).hexdigest()
        assert requests.get(api(fake, "me"), params={"appsecret_proof": good}, headers=AUTH, timeout=5).ok
        wrong = requests.get(api(fake, "me"), params={"appsecret_proof": "0" * 64}, headers=AUTH, timeout=5)
        assert error_of(wrong)["code"] == 100
        assert error_of(wrong)["message"] == "Invalid appsecret_proof provided in the API argument"
        assert post_feed(fake, appsecret_proof=good).ok  # in a form body too

        app = {"Authorization": "Bearer 42|s3cret"}
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-tok1"}, headers=app,
                            timeout=5).json()["data"]
        assert info["is_valid"] and info["profile_id"] == "111" and info["type"] == "PAGE"
        assert "pages_manage_posts" in info["scopes"] and info["app_id"] == "42"
        assert requests.get(api(fake, "debug_token"), params={"input_token": "x"}, timeout=5).status_code == 400
        fake.expire_token("111")
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-tok1"}, headers=app,
                            timeout=5).json()["data"]
        assert not info["is_valid"] and info["error"]["subcode"] == 463 and info["expires_at"] > 0


def test_a_page_token_can_be_given_a_future_expiry() -> None:
    clock = Clock()
    with FakeGraph(PAGES, clock=clock) as fake:
        soon = clock.now + 3 * 86400
        fake.set_token_expiry("111", soon)
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-tok1"}, timeout=5).json()["data"]
        assert info["is_valid"] and info["expires_at"] == int(soon)
        assert info["data_access_expires_at"] == info["issued_at"] + 90 * 86400  # fixed, not moving with the clock
        assert post_feed(fake).ok  # not expired yet
        clock.advance(3 * 86400)
        assert (error_of(post_feed(fake))["code"], error_of(post_feed(fake))["error_subcode"]) == (190, 463)
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-tok1"}, timeout=5).json()["data"]
        assert not info["is_valid"] and info["expires_at"] == int(soon) and info["error"]["subcode"] == 463

        later = clock.now + 60 * 86400  # renewed: a long-lived token (about 60 days)
        requests.post(f"{fake.url}/_fake/tokens", json={"page": "111", "token": "EAAB-new", "expires_at": later},
                      timeout=5)
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-new"}, timeout=5).json()["data"]
        assert info["is_valid"] and info["expires_at"] == int(later)
        requests.post(f"{fake.url}/_fake/tokens", json={"page": "111", "expires_at": None}, timeout=5)
        info = requests.get(api(fake, "debug_token"), params={"input_token": "EAAB-new"}, timeout=5).json()["data"]
        assert info["expires_at"] == 0  # never


# -- batch requests ---------------------------------------------------------------------------------------


def batch(fake: FakeGraph, operations: Any, headers: dict[str, str] | None = AUTH, **fields: str) -> requests.Response:
    raw = operations if isinstance(operations, str) else json.dumps(operations)
    return requests.post(f"{fake.graph_url()}/", data={"batch": raw, **fields}, headers=headers, timeout=5)


def test_batch_answers_each_operation_in_order_with_its_body_as_a_string(fake: FakeGraph) -> None:
    answer = batch(fake, [{"method": "GET", "relative_url": "debug_token?input_token=EAAB-tok1"},
                          {"method": "GET", "relative_url": "me?fields=id,name"},
                          {"method": "GET", "relative_url": "v26.0/999"}])
    assert answer.status_code == 200 and len(answer.json()) == 3
    first, me, missing = answer.json()
    assert first["code"] == 200 and isinstance(first["body"], str)
    assert json.loads(first["body"])["data"]["profile_id"] == "111"
    assert json.loads(me["body"]) == {"id": "111", "name": "UBND tỉnh Thử"}
    assert {"name": "Content-Type", "value": "text/javascript; charset=UTF-8"} in me["headers"]
    assert missing["code"] == 400 and json.loads(missing["body"])["error"]["code"] == 100  # the batch still succeeds
    quiet = batch(fake, [{"method": "GET", "relative_url": "me"}], include_headers="false").json()
    assert set(quiet[0]) == {"code", "body"}

    entry = fake.requests()[0]  # one logged request: the POST; its operations are listed without their query
    assert (entry["method"], entry["graph_path"], entry["query"], entry["body_fields"]) == ("POST", "/", "", ["batch"])
    assert [(o["method"], o["graph_path"], o["status"]) for o in entry["batch"]] == \
        [("GET", "/debug_token", 200), ("GET", "/me", 200), ("GET", "/999", 400)]
    assert "EAAB-tok1" not in json.dumps(fake.requests())


def test_batch_operations_are_authenticated_throttled_and_faulted_like_direct_requests() -> None:
    with FakeGraph(PAGES, calls_per_window=3, app_id="42", app_secret="s3cret", require_appsecret_proof=True) as fake:
        import hashlib
        import hmac

        proof = hmac.new(b"s3cret", b"EAAB-tok1", hashlib.sha256).hexdigest()
        no_proof = batch(fake, [{"method": "GET", "relative_url": "me"}]).json()
        assert json.loads(no_proof[0]["body"])["error"]["message"].startswith("API calls from the server require")
        ops = [{"method": "GET", "relative_url": "me"}] * 3
        answers = batch(fake, ops, appsecret_proof=proof).json()  # the batch's proof goes with the batch's token
        assert [a["code"] for a in answers] == [200, 200, 400]  # each operation counts: the 4th call is over
        assert json.loads(answers[2]["body"])["error"]["code"] == 80001

    with FakeGraph(PAGES) as fake:
        bad = batch(fake, [{"method": "GET", "relative_url": "me"}], headers={"Authorization": "Bearer nope"}).json()
        assert json.loads(bad[0]["body"])["error"]["code"] == 190
        own = batch(fake, [{"method": "GET", "relative_url": "me", "body": "access_token=EAAB-tok2"}], headers=None)
        assert json.loads(own.json()[0]["body"])["id"] == "222"  # an operation may carry its own token
        fake.add_fault("invalid", path=r"^/debug_token$", method="GET", code=10,
                       message="(#10) Application does not have permission for this action")
        refused = batch(fake, [{"method": "GET", "relative_url": "debug_token?input_token=EAAB-tok1"},
                               {"method": "POST", "relative_url": "111/feed", "body": "message=trong+lô"}]).json()
        assert refused[0]["code"] == 403 and json.loads(refused[0]["body"])["error"]["code"] == 10
        assert refused[1]["code"] == 200 and [p["message"] for p in fake.posts()] == ["trong lô"]
        fake.add_fault("reset_before", path=r"^/me$", method="GET")
        with pytest.raises(requests.ConnectionError):
            batch(fake, [{"method": "GET", "relative_url": "me"}])


@pytest.mark.parametrize("raw", ["[x", "{}", "[]", json.dumps([{"method": "GET", "relative_url": "me"}] * 51),
                                 json.dumps([{"method": "GET"}]), json.dumps(["me"]),
                                 json.dumps([{"method": "PATCH", "relative_url": "me"}]),
                                 json.dumps([{"method": "POST", "relative_url": "111/feed", "body": {"a": 1}}])])
def test_a_malformed_batch_is_refused_with_code_100(fake: FakeGraph, raw: str) -> None:
    answer = batch(fake, raw)
    assert answer.status_code == 400 and error_of(answer)["code"] == 100
    assert fake.posts() == [] and "batch" not in fake.requests()[0]


def test_a_batch_cannot_nest_a_batch(fake: FakeGraph) -> None:
    inner = json.dumps([{"method": "GET", "relative_url": "me"}])
    [item] = batch(fake, [{"method": "POST", "relative_url": "", "body": f"batch={inner}"}]).json()
    assert item["code"] == 400 and json.loads(item["body"])["error"]["code"] == 100


# -- usage headers and throttling -----------------------------------------------------------------------


def test_usage_headers_on_every_answer_and_rising() -> None:
    with FakeGraph(PAGES, calls_per_window=10) as fake:
        percents = []
        for _ in range(5):
            answer = requests.get(api(fake, "me"), headers=AUTH, timeout=5)
            app, page = usage(answer)
            percents.append(page["call_count"])
            assert page["estimated_time_to_regain_access"] == 0
        assert percents == [10, 20, 30, 40, 50]
        fake.add_fault("5xx_before")
        usage(post_feed(fake))  # errors carry them too
        usage(requests.get(api(fake, "111/feed"), headers={"Authorization": "Bearer nope"}, timeout=5))


def test_page_throttles_past_its_calls_then_says_when_access_returns() -> None:
    with FakeGraph(PAGES, calls_per_window=3) as fake:
        for _ in range(3):
            assert requests.get(api(fake, "me"), headers=AUTH, timeout=5).ok
        throttled = post_feed(fake)
        assert throttled.status_code == 400 and error_of(throttled)["code"] == 80001
        app, page = usage(throttled)
        assert page["call_count"] == 100 and page["estimated_time_to_regain_access"] > 0
        assert fake.posts() == []
        other = requests.get(api(fake, "me"), headers={"Authorization": "Bearer EAAB-tok2"}, timeout=5)
        assert other.ok  # the quota is per page


@pytest.mark.parametrize("code", [32, 4, 17, 80001, 613, 341])
def test_rate_limit_fault_codes_and_headers(fake: FakeGraph, code: int) -> None:
    fake.add_fault("rate_limit", code=code, seconds=600)
    answer = post_feed(fake)
    error = error_of(answer)
    assert answer.status_code == 400 and error["code"] == code and error["is_transient"]
    app, page = usage(answer)
    assert app["call_count"] == 100 and page["call_count"] == 100
    assert page["estimated_time_to_regain_access"] == 10
    assert post_feed(fake).ok and len(fake.posts()) == 1  # times=1


def test_rate_limit_fault_for_a_window_of_seconds(fake: FakeGraph) -> None:
    fake.add_fault("rate_limit", times=None, seconds=0.4)
    assert error_of(post_feed(fake))["code"] == 32
    assert error_of(post_feed(fake))["code"] == 32
    time.sleep(0.5)
    assert post_feed(fake).ok


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "options", "status", "code", "subcode", "created"), [
    ("5xx_before", {}, 500, 1, None, 0),
    ("code2_before", {}, 500, 2, None, 0),
    ("5xx_after", {}, 500, 2, None, 1),
    ("code1_after", {}, 500, 1, None, 1),
    ("expired_token", {}, 400, 190, 463, 0),
    ("blocked", {}, 400, 368, None, 0),
    ("blocked", {"subcode": 1390008}, 400, 368, 1390008, 0),
    ("duplicate", {}, 400, 506, None, 0),
    ("invalid", {}, 400, 100, None, 0),
    ("rejected_media", {}, 400, 324, None, 0),
    ("rejected_media", {"code": 1609005}, 400, 1609005, None, 0),
])
def test_fault_answers(fake: FakeGraph, kind: str, options: dict[str, Any], status: int, code: int,
                       subcode: int | None, created: int) -> None:
    fake.add_fault(kind, path=r"/feed$", **options)
    answer = post_feed(fake)
    error = error_of(answer)
    assert answer.status_code == status and error["code"] == code and error.get("error_subcode") == subcode
    usage(answer)
    assert len(fake.posts()) == created
    assert post_feed(fake).ok  # times=1 by default


def test_fault_messages_follow_graph(fake: FakeGraph) -> None:
    fake.add_fault("duplicate")
    assert error_of(post_feed(fake))["message"] == "(#506) Duplicate status message"
    fake.add_fault("blocked", subcode=1390008)
    blocked = error_of(post_feed(fake))
    assert blocked["message"].startswith("(#368) The action attempted has been deemed abusive")
    assert blocked["error_user_title"] == "You can't use this feature right now"


def test_faults_strike_by_path_method_times_and_probability(fake: FakeGraph) -> None:
    fake.add_fault("5xx_before", path=r"/photos$", times=2)
    assert post_feed(fake).ok  # another path
    assert upload(fake).status_code == 500 and upload(fake).status_code == 500
    assert upload(fake).ok

    fake.add_fault("5xx_before", times=None)  # default: every Graph POST, never a GET
    assert requests.get(api(fake, "111/feed"), headers=AUTH, timeout=5).ok
    assert post_feed(fake).status_code == 500
    fake.clear_faults()
    assert post_feed(fake).ok

    with FakeGraph(PAGES, seed=7) as seeded:
        seeded.add_fault("5xx_before", times=None, probability=0.5)
        statuses = [post_feed(seeded, f"m{i}").status_code for i in range(40)]
        assert 5 < statuses.count(500) < 35 and statuses.count(200) == len(seeded.posts())
        seeded.clear_faults()
        seeded.add_fault("5xx_before", times=None, probability=0.0)
        assert all(post_feed(seeded, f"n{i}").ok for i in range(5))


def test_reset_before_drops_the_connection_and_creates_nothing(fake: FakeGraph) -> None:
    fake.add_fault("reset_before")
    with pytest.raises(requests.ConnectionError):
        post_feed(fake)
    assert fake.posts() == []
    assert post_feed(fake).ok


def test_reset_after_drops_the_connection_but_the_post_exists(fake: FakeGraph) -> None:
    fake.add_fault("reset_after", path=r"/photos$")
    with pytest.raises(requests.ConnectionError):
        upload(fake)
    assert len(fake.posts()) == 1 and len(fake.photos()) == 1


def test_slow_after_makes_the_client_time_out_but_the_post_exists(fake: FakeGraph) -> None:
    fake.add_fault("slow_after", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.post(api(fake, "111/feed"), data={"message": "chậm"}, headers=AUTH, timeout=(2, 0.3))
    assert time.monotonic() - started < 1.0
    assert [p["message"] for p in fake.posts()] == ["chậm"]


def test_stop_does_not_wait_for_a_slow_answer() -> None:
    fake = FakeGraph(PAGES).start()
    fake.add_fault("slow_after", seconds=30)
    with pytest.raises(requests.ReadTimeout):
        requests.post(api(fake, "111/feed"), data={"message": "x"}, headers=AUTH, timeout=(2, 0.2))
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3


def test_duplicate_protection_is_off_by_default_and_switchable(fake: FakeGraph) -> None:
    assert post_feed(fake, "giống").ok and post_feed(fake, "giống").ok
    with FakeGraph(PAGES, duplicate_window=60) as strict:
        assert post_feed(strict, "giống").ok
        again = post_feed(strict, "giống")
        assert again.status_code == 400 and error_of(again)["code"] == 506
        assert post_feed(strict, "khác").ok and len(strict.posts()) == 2


def test_latency_is_added_to_graph_calls_only() -> None:
    with FakeGraph(PAGES, latency=0.2) as fake:
        started = time.monotonic()
        requests.get(api(fake, "me"), headers=AUTH, timeout=5)
        assert time.monotonic() - started >= 0.2
        started = time.monotonic()
        requests.get(f"{fake.url}/_fake/health", timeout=5)
        assert time.monotonic() - started < 0.2


# -- control over HTTP and as a separate process ----------------------------------------------------------


def test_http_control_endpoints(fake: FakeGraph) -> None:
    control = f"{fake.url}/_fake"
    fault = requests.post(f"{control}/faults", json={"kind": "5xx_after", "path": "/feed$"}, timeout=5).json()
    assert fault["kind"] == "5xx_after" and fault["times"] == 1
    assert requests.post(f"{control}/faults", json={"kind": "nope"}, timeout=5).status_code == 400
    assert post_feed(fake).status_code == 500
    assert [p["message"] for p in requests.get(f"{control}/posts", timeout=5).json()["data"]] == \
        ["Lấy ý kiến dự thảo"]

    requests.post(f"{control}/faults", json={"kind": "5xx_before", "times": None}, timeout=5)
    assert requests.delete(f"{control}/faults", timeout=5).json() == {"success": True}
    assert post_feed(fake).ok

    requests.post(f"{control}/tokens", json={"page": "111", "expire": True}, timeout=5)
    assert error_of(post_feed(fake))["error_subcode"] == 463
    requests.post(f"{control}/tokens", json={"page": "111", "token": "EAAB-new"}, timeout=5)
    assert error_of(post_feed(fake))["error_subcode"] == 460  # the old token
    assert requests.post(api(fake, "111/feed"), data={"message": "x"}, headers={"Authorization": "Bearer EAAB-new"},
                         timeout=5).ok

    log = requests.get(f"{control}/requests", timeout=5).json()["data"]
    assert all(entry["path"].startswith("/v26.0/") for entry in log)  # control calls are not Graph calls
    assert {"method", "path", "query", "headers", "token_in_query", "status"} <= set(log[0])

    requests.post(f"{control}/config", json={"lag": 5}, timeout=5)
    assert fake.lag == 5
    assert requests.post(f"{control}/reset", timeout=5).json() == {"success": True}
    assert fake.posts() == [] and fake.requests() == [] and post_feed(fake).ok  # old token is back


def test_runs_as_a_separate_process(tmp_path: Path) -> None:
    pages = tmp_path / "pages.json"
    pages.write_text(json.dumps(PAGES), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "tests.fakegraph", "--port", "0", "--pages", str(pages)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        requests.post(f"{url}/_fake/faults", json={"kind": "5xx_after"}, timeout=5)
        first = requests.post(f"{url}/v26.0/111/feed", data={"message": "một lần"}, headers=AUTH, timeout=5)
        assert first.status_code == 500
        posts = requests.get(f"{url}/_fake/posts", timeout=5).json()["data"]
        assert [p["message"] for p in posts] == ["một lần"]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_throttle_minutes_round_up() -> None:
    assert math.ceil(90 / 60) == 2  # the rule rate_limit uses: seconds → whole minutes
    with FakeGraph(PAGES) as fake:
        fake.add_fault("rate_limit", seconds=90)
        assert usage(post_feed(fake))[1]["estimated_time_to_regain_access"] == 2
