"""The approvals pages and API (issue 8): drafts waiting with their preview; approve, or send back with a comment.

Real data through the library (``posts.new_post`` writes the drafts, with a
real infographic), through FastAPI's TestClient (the whole ASGI stack, the
CSRF wall included).  Every case with a database runs on SQLite and
PostgreSQL.  The last test drives a real Chromium against ``publisher web``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from PIL import Image
from sqlalchemy import select

from publisher import i18n, posts
from publisher.context import App
from publisher.models import DeliveryState, PostState, utcnow
from publisher.store.engine import read
from publisher.store.schema import journal as journal_table
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import POLICY, web_server
from .helpers import add_policy, delivery
from .webtools import XSS, add_user, add_users, browser_login, login_as, shot, watched, web_client

CODE = POLICY["code"]
XA_CODE = "7/2026/QĐ-UBND"
PNG = b"\x89PNG\r\n\x1a\n"
SELF_APPROVAL = "không được tự duyệt bài của mình"
USERS = (("bien-tap", "editor", "tinh"), ("truong-phong", "approver", "tinh"), ("kiem-tra", "auditor", None),
         ("quan-tri", "admin", None), ("xa-duyet", "approver", "xa"))


@pytest.fixture
def app(app: App) -> App:
    """The test config on each backend, two policies (agencies tinh and xa) and one account per role."""
    add_policy(app)
    add_policy(app, XA_CODE, agency="xa")
    add_users(app, USERS)
    return app


def _draft(app: App, author: str = "bien-tap", days: float = 3, text: str = "Mời bà con góp ý dự thảo.",
           code: str = CODE, agency: str = "tinh", channels: tuple[str, ...] = ("portal", "fanpage"),
           infographics: tuple[str, ...] = ("vuong",)) -> int:
    post = posts.new_post(app, author, {
        "policy": code, "agency": agency, "channels": list(channels), "template": "thong-tin",
        "variables": {"noi_dung": text}, "infographics": list(infographics),
        "at": (utcnow() + timedelta(days=days)).isoformat()})
    return post.id


def _events(app: App, event: str) -> list[tuple[str, str, dict[str, Any]]]:
    with read(app.engine) as conn:
        found = conn.execute(select(journal_table.c.actor, journal_table.c.subject, journal_table.c.payload)
                             .where(journal_table.c.event == event).order_by(journal_table.c.seq)).all()
    return [(r.actor, r.subject, json.loads(r.payload)) for r in found]


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="card approvals-wide approval" id="post-(\d+)">', html)]


def _is_png(body: bytes) -> tuple[int, int]:
    assert body.startswith(PNG)
    with Image.open(io.BytesIO(body)) as image:
        image.verify()
    with Image.open(io.BytesIO(body)) as image:
        return image.size


# --- the list and the preview ------------------------------------------------------------------------

def test_the_list_shows_the_waiting_drafts_oldest_first_with_their_preview(app):
    later = _draft(app, days=5, text="Bài đăng sau.")
    sooner = _draft(app, days=2, text="Bài đăng trước.", infographics=())
    approved = _draft(app, text="Đã duyệt rồi.")
    posts.approve(app, "truong-phong", approved)
    _draft(app, code=XA_CODE, agency="xa", channels=("xa-fanpage",))  # another agency's
    client, _ = login_as(app, "truong-phong")
    page = client.get("/approvals")
    assert page.status_code == 200 and "Bài chờ duyệt" in page.text
    assert _ids(page.text) == [sooner, later]  # oldest publish time first; nothing approved, nothing of xa
    assert "Bài đăng trước." in page.text and "Bài đăng sau." in page.text and "Đã duyệt rồi." not in page.text
    post = posts.get(app, later)
    shown_at = post.publish_at.astimezone(app.config.timezone).strftime("%d/%m/%Y %H:%M")
    assert shown_at in page.text  # in display.timezone
    assert "thong-tin" in page.text and "portal, fanpage" in page.text and "bien-tap" in page.text
    assert page.text.count('data-channel="portal"') == 2 and page.text.count('data-channel="fanpage"') == 2
    assert f'src="/approvals/{later}/image/0"' in page.text and f"/approvals/{sooner}/image/" not in page.text
    image = client.get(f"/approvals/{later}/image/0")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert _is_png(image.content)[0] > 100
    for missing in (f"/approvals/{later}/image/1", f"/approvals/{later}/image/x", f"/approvals/{sooner}/image/0"):
        assert client.get(missing).status_code == 404
    detail = client.get(f"/approvals/{later}")
    texts, _ = posts.preview(app, later)
    for channel, (title, body) in texts.items():
        assert f'data-channel="{channel}"' in detail.text
        assert str(escape(title)) in detail.text and str(escape(body.splitlines()[0])) in detail.text
    assert 'id="approve"' in detail.text and 'id="return"' in detail.text
    api = client.get("/api/v1/approvals").json()["items"]
    assert [p["id"] for p in api] == [sooner, later]
    assert [t["channel"] for t in api[1]["texts"]] == ["portal", "fanpage"] and api[1]["state"] == "draft"
    assert api[1]["texts"][1]["body"] == texts["fanpage"][1]
    assert api[1]["images"] == [{"name": "12-2026-NQ-HĐND-vuong.png", "url": f"/approvals/{later}/image/0"}]
    assert client.get(f"/api/v1/approvals/{later}").json()["author"] == "bien-tap"
    for missing in ("/approvals/999999", "/approvals/abc", f"/approvals/{2**40}"):
        assert client.get(missing).status_code == 404
    assert client.get("/api/v1/approvals/999999").status_code == 404


# --- approve -------------------------------------------------------------------------------------------

def test_approving_queues_the_deliveries_journalled_with_the_approver(app):
    pid = _draft(app)
    client, token = login_as(app, "truong-phong")
    done = client.post(f"/approvals/{pid}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/approvals/{pid}?done=approved"
    post = posts.get(app, pid)
    assert post.state == PostState.APPROVED and post.approver == "truong-phong"
    page = client.get(done.headers["location"]).text
    dids = [int(n) for n in re.findall(r'<a href="/deliveries/(\d+)">', page)]
    assert len(dids) == 2 and "Đã phê duyệt bài" in page and 'id="approve"' not in page
    assert all(delivery(app, did).state == DeliveryState.QUEUED for did in dids)
    assert {delivery(app, did).channel for did in dids} == {"portal", "fanpage"}
    assert _events(app, "post.approved") == [("truong-phong", f"post:{pid}", {"author": "bien-tap"})]
    assert f'src="/approvals/{pid}/image/0"' in page  # the frozen infographic
    assert _is_png(client.get(f"/approvals/{pid}/image/0").content)[0] > 100
    again = client.post(f"/approvals/{pid}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and f"Bài số {pid} đã được truong-phong duyệt trước đó" in again.text
    other = _draft(app)
    answer = client.post(f"/api/v1/approvals/{other}/approve", headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["post"]["state"] == "approved"
    assert len(answer.json()["deliveries"]) == 2
    assert all(delivery(app, did).post_id == other for did in answer.json()["deliveries"])
    refused = client.post(f"/api/v1/approvals/{other}/approve", headers={"X-CSRF-Token": token})
    assert refused.status_code == 409 and "Không có gì thay đổi" in refused.json()["detail"]
    cancelled = _draft(app)
    posts.cancel(app, "bien-tap", cancelled)
    refused = client.post(f"/approvals/{cancelled}/approve", data={"csrf_token": token})
    assert refused.status_code == 409 and "đã bị hủy" in refused.text
    assert len(_events(app, "post.approved")) == 2


def test_an_approver_cannot_approve_their_own_post_and_nothing_changes(app):
    pid = _draft(app, author="truong-phong")
    client, token = login_as(app, "truong-phong")
    page = client.get(f"/approvals/{pid}").text
    assert 'id="approve"' not in page and 'id="own-post"' in page
    refused = client.post(f"/approvals/{pid}/approve", data={"csrf_token": token})
    assert refused.status_code == 409
    assert SELF_APPROVAL in refused.text and "Không có gì thay đổi" in refused.text and 'role="alert"' in refused.text
    api = client.post(f"/api/v1/approvals/{pid}/approve", headers={"X-CSRF-Token": token})
    assert api.status_code == 409 and SELF_APPROVAL in api.json()["detail"]
    post = posts.get(app, pid)
    assert post.state == PostState.DRAFT and post.approver is None and posts.frozen(app, pid) == {}
    assert _events(app, "post.approved") == []
    other, other_token = login_as(app, "quan-tri")  # someone else may
    assert other.post(f"/approvals/{pid}/approve", data={"csrf_token": other_token},
                      follow_redirects=False).status_code == 303


# --- send back ----------------------------------------------------------------------------------------

def test_sending_back_keeps_the_draft_and_shows_the_comment_to_the_editor(app):
    pid = _draft(app)
    client, token = login_as(app, "truong-phong")
    comment = "Đề nghị bổ sung thời hạn góp ý\nvà địa chỉ gửi ý kiến."
    done = client.post(f"/approvals/{pid}/return", data={"csrf_token": token, "comment": comment},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/approvals/{pid}?done=returned"
    assert "Đã trả lại bài cho người viết" in client.get(done.headers["location"]).text
    assert posts.get(app, pid).state == PostState.DRAFT
    assert _events(app, "post.returned") == [("truong-phong", f"post:{pid}",
                                              {"author": "bien-tap", "comment": comment})]
    editor, _ = login_as(app, "bien-tap")
    page = editor.get(f"/approvals/{pid}")
    assert page.status_code == 200 and comment in page.text and "Trả lại bởi truong-phong" in page.text
    assert 'id="approve"' not in page.text and 'id="return"' not in page.text and "<textarea" not in page.text
    assert comment in editor.get("/approvals").text  # still waiting, marked sent back
    answer = client.post(f"/api/v1/approvals/{pid}/return", json={"comment": "Sửa lại tiêu đề."},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["state"] == "draft"
    assert answer.json()["returned"]["comment"] == "Sửa lại tiêu đề."
    latest = editor.get(f"/approvals/{pid}").text
    assert "Sửa lại tiêu đề." in latest and "Đề nghị bổ sung" not in latest  # the latest comment is shown
    assert editor.get("/api/v1/approvals").json()["items"][0]["returned"]["actor"] == "truong-phong"


def test_a_blank_comment_is_refused(app):
    pid = _draft(app)
    client, token = login_as(app, "truong-phong")
    for comment in ("", "   \n  "):
        refused = client.post(f"/approvals/{pid}/return", data={"csrf_token": token, "comment": comment})
        assert refused.status_code == 400 and "không được để trống" in refused.text
    assert client.post(f"/api/v1/approvals/{pid}/return", json={"comment": "  "},
                       headers={"X-CSRF-Token": token}).status_code == 400
    assert client.post(f"/api/v1/approvals/{pid}/return", json={"comment": ""},
                       headers={"X-CSRF-Token": token}).status_code == 422
    assert client.post(f"/api/v1/approvals/{pid}/return", json={},
                       headers={"X-CSRF-Token": token}).status_code == 422
    long = client.post(f"/approvals/{pid}/return", data={"csrf_token": token, "comment": "ý" * 2001})
    assert long.status_code == 400 and "tối đa 2000 ký tự" in long.text
    posts.approve(app, "truong-phong", pid)
    late = client.post(f"/approvals/{pid}/return", data={"csrf_token": token, "comment": "Muộn rồi."})
    assert late.status_code == 409 and "đã được truong-phong duyệt trước đó" in late.text
    assert _events(app, "post.returned") == []


# --- walls ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bien-tap", "kiem-tra"])
def test_editors_and_auditors_read_but_may_not_approve_or_send_back(app, name):
    pid = _draft(app, author="quan-tri")
    client, token = login_as(app, name)
    page = client.get(f"/approvals/{pid}")
    assert page.status_code == 200 and "<form class=\"approval-action\"" not in page.text
    for action in ("approve", "return"):
        ui = client.post(f"/approvals/{pid}/{action}", data={"csrf_token": token, "comment": "ý kiến"})
        assert ui.status_code == 403 and "Vai trò của bạn không được làm việc này" in ui.text
        api = client.post(f"/api/v1/approvals/{pid}/{action}", json={"comment": "ý kiến"},
                          headers={"X-CSRF-Token": token})
        assert api.status_code == 403 and "Vai trò" in api.json()["detail"]
    assert posts.get(app, pid).state == PostState.DRAFT
    assert _events(app, "post.approved") == [] and _events(app, "post.returned") == []


def test_an_agency_bound_approver_never_sees_another_agencys_post(app):
    tinh = _draft(app)
    xa = _draft(app, code=XA_CODE, agency="xa", channels=("xa-fanpage",))
    client, token = login_as(app, "xa-duyet")
    assert _ids(client.get("/approvals").text) == [xa]
    assert [p["id"] for p in client.get("/api/v1/approvals").json()["items"]] == [xa]
    for path in (f"/approvals/{tinh}", f"/approvals/{tinh}/image/0", f"/api/v1/approvals/{tinh}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/approvals/{tinh}/approve", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/approvals/{tinh}/return", data={"csrf_token": token, "comment": "x"}).status_code == 404
    assert client.post(f"/api/v1/approvals/{tinh}/approve", headers={"X-CSRF-Token": token}).status_code == 404
    assert posts.get(app, tinh).state == PostState.DRAFT
    everyone, _ = login_as(app, "quan-tri")  # an account of every agency sees both
    assert sorted(_ids(everyone.get("/approvals").text)) == sorted([tinh, xa])


def test_script_in_a_variable_or_a_comment_comes_back_inert(app):
    pid = _draft(app, text=f"Nội dung {XSS}")
    client, token = login_as(app, "truong-phong")
    client.post(f"/approvals/{pid}/return", data={"csrf_token": token, "comment": f"Sửa {XSS}"})
    for html in (client.get("/approvals").text, client.get(f"/approvals/{pid}").text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
    api = client.get(f"/api/v1/approvals/{pid}").json()
    assert XSS in api["returned"]["comment"]  # JSON is data, not markup


def test_the_openapi_document_describes_the_approvals_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/approvals", "/api/v1/approvals/{post_id}", "/api/v1/approvals/{post_id}/approve",
            "/api/v1/approvals/{post_id}/return"} <= set(paths)
    assert all(path.startswith("/api/") for path in paths)  # the pages stay out of it
    assert set(paths["/api/v1/approvals/{post_id}/approve"]) == {"post"}
    assert {"403", "404", "409"} <= set(paths["/api/v1/approvals/{post_id}/approve"]["post"]["responses"])
    body = paths["/api/v1/approvals/{post_id}/return"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/ReturnRequest")
    schemas = spec["components"]["schemas"]
    assert {"ApprovalList", "ApprovalOut", "ApprovalDone", "ReturnRequest", "ChannelText", "ImageOut",
            "ReturnedOut"} <= set(schemas)


def test_every_word_the_approvals_pages_use_is_in_both_languages():
    used = set()
    folder = PACKAGE_TEMPLATES / "approvals"
    for path in folder.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    assert {key for key in used if key.endswith(".")} == {"state.", "post_state."}
    used = {key for key in used if not key.endswith(".")}
    used |= {f"state.{s.value}" for s in DeliveryState} | {f"post_state.{s.value}" for s in PostState}
    raw = i18n.raw_catalogue()
    assert len(used) > 30 and sorted(k for k in used if set(raw.get(k, {})) != set(i18n.LANGUAGES)) == []
    html = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    assert "<script" not in html and " style=" not in html and "<style" not in html


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App, int]]:
    """``publisher web`` on a free loopback port, with an editor's draft waiting for an approver."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    add_user(sqlite_app, "truong-phong", "approver", display_name="Nguyễn Văn Duyệt")
    add_policy(sqlite_app, key_points=["Hỗ trợ 100% học phí", "Ưu tiên học sinh dân tộc thiểu số"])
    pid = _draft(sqlite_app, text="Mời bà con góp ý dự thảo nghị quyết hỗ trợ học phí.")
    with web_server(project) as url:
        yield url, sqlite_app, pid


def test_an_approver_previews_and_approves_an_editors_draft_in_a_browser(site: tuple[str, App, int],
                                                                         browser: Any) -> None:
    url, opened, pid = site
    with watched(browser) as (page, _):  # the strict CSP blocks nothing the pages need, no request fails
        browser_login(page, url, "truong-phong")
        page.goto(f"{url}/approvals")
        page.wait_for_load_state("networkidle")
        assert page.locator("section.approval").count() == 1
        image = page.locator(f"#post-{pid} .approval-images img").first
        image.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.approval-images img').complete")
        width = image.evaluate("img => img.naturalWidth")
        shot(page, "web-approvals")
        page.click(f"#post-{pid} h2 a")
        page.wait_for_load_state()
        assert "Mời bà con góp ý dự thảo" in page.inner_text(".approval-preview")
        shot(page, "web-approval-detail")
        page.click("#approve")
        page.wait_for_load_state()
        shown = page.inner_text("main")
        links = page.locator("a[href^='/deliveries/']").count()
        colour = page.evaluate("getComputedStyle(document.querySelector('.post-state')).backgroundColor")
        shot(page, "web-approval-approved")
    assert width > 100  # the infographic loaded (a broken image has naturalWidth 0)
    assert "Đã phê duyệt bài" in shown and "đã duyệt" in shown and links == 2
    assert posts.get(opened, pid).state == PostState.APPROVED and posts.get(opened, pid).approver == "truong-phong"
    assert colour not in ("", "rgba(0, 0, 0, 0)")  # web.css's approvals rules are loaded
