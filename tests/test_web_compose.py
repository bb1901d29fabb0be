"""The compose page and API (issue 8): choose, fill in, live preview of texts and infographics, save a draft.

Through FastAPI's TestClient (the whole ASGI stack, the CSRF wall included),
on SQLite and PostgreSQL; the last test drives a real Chromium against
``publisher web`` and checks that compose.js updates the preview by itself.
"""

from __future__ import annotations

import base64
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from publisher import accounts, i18n
from publisher.context import App
from publisher.models import PostState
from publisher.store.engine import read
from publisher.store.schema import journal as journal_table
from publisher.store.schema import posts as posts_table
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import POLICY, ROOT, web_server
from .helpers import add_policy
from .webtools import XSS, add_user, add_users, browser_login, login_as, shot, watched, web_client

XA_CODE = "7/2026/QĐ-UBND"
USERS = (("bien-tap", "editor", "tinh"), ("truong-phong", "approver", "tinh"), ("kiem-tra", "auditor", None),
         ("quan-tri", "admin", None), ("xa-bien-tap", "editor", "xa"))
TEXT = unicodedata.normalize("NFD", "Mời bà con góp ý dự thảo về học phí.")  # typed with combining marks


@pytest.fixture
def app(app: App) -> App:
    """Two policies (agencies tinh and xa) and one account per role."""
    add_policy(app, key_points=["Hỗ trợ 100% học phí", "Ưu tiên học sinh vùng khó khăn"],
               affected="Học sinh, phụ huynh")
    add_policy(app, XA_CODE, agency="xa")
    add_users(app, USERS)
    return app


def _pid(app: App, code: str = POLICY["code"]) -> int:
    from publisher.web.policy_forms import visible
    everyone = accounts.get_user(app, "quan-tri")
    return next(p.id for p in visible(app, everyone) if p.code == code)


def _form(app: App, token: str, **changes: Any) -> dict[str, Any]:
    form = {"csrf_token": token, "policy": str(_pid(app)), "template": "thong-tin", "channels": ["portal", "fanpage"],
            "infographics": ["vuong"], "at": "20/12/2026 08:00", "deadline": "", "var_noi_dung": TEXT}
    form.update(changes)
    return form


def _png(b64: str) -> tuple[int, int]:
    body = base64.b64decode(b64)
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(body)) as image:
        image.load()
        return image.size


def _posts(app: App) -> list[Any]:
    with read(app.engine) as conn:
        return conn.execute(select(posts_table).order_by(posts_table.c.id)).all()


def _journal(app: App, event: str) -> list[tuple[str, str, dict[str, Any]]]:
    with read(app.engine) as conn:
        found = conn.execute(select(journal_table.c.actor, journal_table.c.subject, journal_table.c.payload)
                             .where(journal_table.c.event == event).order_by(journal_table.c.seq)).all()
    return [(r.actor, r.subject, json.loads(r.payload)) for r in found]


# --- the form ----------------------------------------------------------------------------------------

def test_the_form_offers_visible_policies_the_agencys_channels_templates_and_layouts(app):
    client, _ = login_as(app, "bien-tap")
    page = client.get("/compose")
    assert page.status_code == 200 and "Soạn bài đăng" in page.text
    assert POLICY["code"] in page.text and XA_CODE not in page.text  # only its agency's policies
    assert 'value="portal"' in page.text and 'value="fanpage"' in page.text and "xa-fanpage" not in page.text
    for template in ("thong-tin", "moi-gop-y", "ban-hanh", "nhac-han-gop-y", "thong-qua"):
        assert f'<option value="{template}"' in page.text
    assert "Thông tin chung về chính sách" in page.text  # the template's own description
    assert "_chung" not in page.text  # shared macros are not a template
    for layout in ("vuong", "doc", "the-lien-ket"):
        assert f'name="infographics" value="{layout}"' in page.text
    for variable in ("noi_dung", "tieu_de", "hieu_luc", "co_quan_ban_hanh", "co_quan_thong_qua"):
        assert f'name="var_{variable}"' in page.text
    for provided in ("policy", "agency", "channel", "today", "title", "chung"):
        assert f'name="var_{provided}"' not in page.text
    assert '<script src="/static/compose.js" defer></script>' in page.text
    assert "Asia/Ho_Chi_Minh" in page.text or app.config.timezone.key in page.text
    everyone, _ = login_as(app, "quan-tri")
    both = everyone.get("/compose").text
    assert POLICY["code"] in both and XA_CODE in both and 'value="xa-fanpage"' in both
    js = client.get("/static/compose.js")
    assert js.status_code == 200 and "X-CSRF-Token" in js.text and "400" in js.text


def test_the_preview_fragment_shows_each_channels_text_and_a_real_infographic(app):
    client, token = login_as(app, "bien-tap")
    found = client.post("/compose/preview", data=_form(app, ""), headers={"X-CSRF-Token": token})
    assert found.status_code == 200 and "<html" not in found.text
    nfc = unicodedata.normalize("NFC", TEXT)
    assert found.text.count('data-channel="portal"') == 1 and found.text.count('data-channel="fanpage"') == 1
    assert nfc in found.text and TEXT not in found.text  # the variable filled in, as NFC
    assert "&lt;p&gt;" in found.text  # the portal's HTML shown as its source, escaped
    urls = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', found.text)
    assert len(urls) == 1 and _png(urls[0]) == (1080, 1080)
    assert 'class="compose-error"' not in found.text
    api = client.post("/api/v1/compose/preview", headers={"X-CSRF-Token": token}, json={
        "policy": _pid(app), "template": "thong-tin", "channels": ["fanpage"], "infographics": ["the-lien-ket", "doc"],
        "at": "2026-12-20 08:00", "variables": {"noi_dung": TEXT}})
    body = api.json()
    assert api.status_code == 200 and body["errors"] == []
    assert [t["channel"] for t in body["texts"]] == ["fanpage"] and nfc in body["texts"][0]["body"]
    assert body["texts"][0]["body"].startswith(POLICY["title"])
    assert [_png(i["png_base64"]) for i in body["images"]] == [(1200, 630), (1080, 1350)]
    every = client.post("/api/v1/compose/preview", headers={"X-CSRF-Token": token},
                        json={"policy": _pid(app), "variables": {"noi_dung": "x"}}).json()
    assert {t["channel"] for t in every["texts"]} == {"portal", "fanpage"}  # no channels: all of the agency's


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"var_noi_dung": ""}, "var_noi_dung", "thiếu biến"),
    ({"at": "31/02/2026 25:00"}, "at", "không phải thời điểm hợp lệ"),
    ({"at": "9999-12-31 23:00"}, "at", "không phải thời điểm hợp lệ"),
    ({"deadline": "01/12/2026 08:00"}, "deadline", "phải sau"),
    ({"policy": "999999"}, "policy", "không tìm thấy chính sách"),
    ({"channels": []}, "channels", "thiếu trường bắt buộc"),
    ({"template": "../../etc/passwd"}, "template", "không có mẫu"),
])
def test_an_error_comes_back_in_vietnamese_naming_its_field(app, changes, field, words):
    client, token = login_as(app, "bien-tap")
    found = client.post("/compose/preview", data=_form(app, token, **changes))
    assert found.status_code == 200
    assert f'data-field="{field}"' in found.text and words in found.text, found.text
    label = {"var_noi_dung": "Biến «noi_dung»", "at": "Thời điểm đăng", "deadline": "Hạn đăng",
             "policy": "Chính sách", "channels": "Kênh đăng", "template": "Mẫu bài"}[field]
    assert label in found.text
    api = client.post("/api/v1/posts", headers={"X-CSRF-Token": token}, json={
        "policy": int(changes.get("policy", _pid(app))), "template": changes.get("template", "thong-tin"),
        "channels": changes.get("channels", ["portal"]), "at": changes.get("at", "20/12/2026 08:00"),
        "deadline": changes.get("deadline"),
        "variables": {} if "var_noi_dung" in changes else {"noi_dung": "x"}})
    if field != "channels":  # the API takes no channels as "all of the agency's", as the CLI does
        assert api.status_code == 400 and api.json()["field"] == field and words in api.json()["detail"]
    saved = client.post("/compose", data=_form(app, token, **changes), follow_redirects=False)
    assert saved.status_code == 400 and f'id="{field}-error"' in saved.text and words in saved.text
    assert 'aria-invalid="true"' in saved.text
    if field != "var_noi_dung":
        assert TEXT in saved.text  # what was typed is kept, as typed
    assert len(_posts(app)) == (1 if field == "channels" else 0)


def test_a_layout_that_cannot_hold_the_text_names_the_infographics_field(app, project: Path):
    folder = project / "templates" / "infographics"
    folder.mkdir(parents=True)
    source = (ROOT / "templates" / "infographics" / "vuong.toml").read_text(encoding="utf-8")
    (folder / "chat.toml").write_text(re.sub(r"size = \[\d+, \d+\]", "size = [90, 90]", source),
                                      encoding="utf-8")
    client, token = login_as(app, "bien-tap")
    found = client.post("/compose/preview", data=_form(app, token, infographics=["chat"]))
    assert 'data-field="infographics"' in found.text and "không vừa khối" in found.text
    assert found.text.count('data-channel="') == 2  # the texts still show


def test_without_javascript_the_preview_button_re_renders_the_whole_page(app):
    client, token = login_as(app, "bien-tap")
    page = client.post("/compose", data=_form(app, token, do="preview"))
    assert page.status_code == 200 and "<html" in page.text and 'id="compose-preview"' in page.text
    assert unicodedata.normalize("NFC", TEXT) in page.text and "data:image/png;base64," in page.text
    assert _posts(app) == []


def test_saving_creates_a_draft_journalled_with_the_actor_and_goes_to_its_page(app):
    client, token = login_as(app, "bien-tap")
    saved = client.post("/compose", data=_form(app, token, do="save"), follow_redirects=False)
    [row] = _posts(app)
    assert saved.status_code == 303 and saved.headers["location"] == f"/approvals/{row.id}"
    assert row.state == PostState.DRAFT and row.author == "bien-tap" and row.template == "thong-tin"
    assert list(row.channels) == ["portal", "fanpage"] and list(row.infographics) == ["vuong"]
    assert row.variables == {"noi_dung": unicodedata.normalize("NFC", TEXT)}
    local = row.publish_at.replace(tzinfo=row.publish_at.tzinfo or __import__("datetime").UTC)
    assert local.astimezone(app.config.timezone).strftime("%d/%m/%Y %H:%M") == "20/12/2026 08:00"
    [(actor, subject, payload)] = _journal(app, "post.created")
    assert (actor, subject, payload["template"]) == ("bien-tap", f"post:{row.id}", "thong-tin")
    shown = client.get(saved.headers["location"])
    assert shown.status_code == 200 and unicodedata.normalize("NFC", TEXT) in shown.text
    api = client.post("/api/v1/posts", headers={"X-CSRF-Token": token}, json={
        "policy": _pid(app), "template": "thong-tin", "channels": ["fanpage"], "at": "2026-12-21 09:30",
        "variables": {"noi_dung": "Bài từ API."}})
    assert api.status_code == 201, api.text
    made = api.json()
    assert made["state"] == "draft" and made["author"] == "bien-tap" and made["url"] == f"/approvals/{made['id']}"
    assert [a for a, _, _ in _journal(app, "post.created")] == ["bien-tap", "bien-tap"]


# --- walls -------------------------------------------------------------------------------------------

def test_an_agency_bound_editor_cannot_use_another_agencys_policy_or_channel(app):
    client, token = login_as(app, "xa-bien-tap")
    page = client.get("/compose").text
    assert XA_CODE in page and POLICY["code"] not in page and 'value="portal"' not in page
    tinh = _form(app, token, channels=["xa-fanpage"], infographics=[])
    found = client.post("/compose/preview", data=tinh)
    assert 'data-field="policy"' in found.text and POLICY["title"] not in found.text
    assert client.post("/compose", data=tinh).status_code == 400
    api = client.post("/api/v1/posts", headers={"X-CSRF-Token": token},
                      json={"policy": _pid(app), "variables": {"noi_dung": "x"}})
    assert api.status_code == 400 and api.json()["field"] == "policy"
    own = client.post("/api/v1/compose/preview", headers={"X-CSRF-Token": token}, json={
        "policy": _pid(app, XA_CODE), "channels": ["fanpage"], "variables": {"noi_dung": "x"}}).json()
    assert own["texts"] == [] and own["errors"][0]["field"] == "channels"
    assert _posts(app) == []


def test_script_in_a_variable_is_inert_in_the_preview(app):
    client, token = login_as(app, "bien-tap")
    for html in (client.post("/compose/preview", data=_form(app, token, var_noi_dung=XSS)).text,
                 client.post("/compose", data=_form(app, token, var_noi_dung=XSS, do="preview")).text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
    nul = client.post("/api/v1/posts", headers={"X-CSRF-Token": token},
                      json={"policy": _pid(app), "variables": {"noi_dung": "a\x00b"}})
    assert nul.status_code == 400 and _posts(app) == []  # refused before the database sees it


def test_the_openapi_document_describes_the_compose_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/compose/preview", "/api/v1/posts"} <= set(paths)
    assert not any(p.startswith("/compose") for p in paths)
    assert {"201", "400", "403"} <= set(paths["/api/v1/posts"]["post"]["responses"])
    body = paths["/api/v1/posts"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/ComposeRequest")
    assert {"ComposeRequest", "ComposePreview", "ChannelPreview", "ImagePreview", "FieldError",
            "PostCreated"} <= set(spec["components"]["schemas"])


def test_every_word_the_compose_page_uses_is_in_both_languages():
    folder = PACKAGE_TEMPLATES / "compose"
    html = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    used = set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", html))
    assert {k for k in used if k.endswith(".")} == {"web.compose.field."}
    used = {k for k in used if not k.endswith(".")}
    used |= {f"web.compose.field.{f}" for f in ("policy", "template", "channels", "infographics", "at", "deadline",
                                                "variables")}
    raw = i18n.raw_catalogue()
    assert len(used) > 20 and sorted(k for k in used if set(raw.get(k, {})) != set(i18n.LANGUAGES)) == []
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert "<script src=" in html  # the one script is a file


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[tuple[str, App]]:
    """``publisher web`` on a free loopback port, with an editor and a policy."""
    add_user(sqlite_app, "bien-tap", "editor", display_name="Trần Thị Bình")
    add_policy(sqlite_app, key_points=["Hỗ trợ 100% học phí", "Ưu tiên học sinh dân tộc thiểu số"])
    with web_server(project) as url:
        yield url, sqlite_app


def test_an_editor_composes_with_a_live_preview_in_a_browser(site: tuple[str, App], browser: Any) -> None:
    url, opened = site
    words = "Từ ngày 01/01/2027, học sinh vùng khó khăn được hỗ trợ toàn bộ học phí."
    with watched(browser) as (page, _):  # the strict CSP blocks nothing, no request fails
        browser_login(page, url, "bien-tap")
        page.goto(f"{url}/compose")
        page.select_option("#template", "thong-tin")
        assert page.locator("#var_noi_dung").is_visible() and not page.locator("#var_hieu_luc").is_visible()
        page.check("input[name=infographics][value=vuong]")
        page.fill("#at", "20/12/2026 08:00")
        page.fill("#var_noi_dung", words)  # no button: compose.js previews after a pause
        page.wait_for_selector("#compose-preview [data-channel=fanpage]")
        page.wait_for_function("document.querySelector('#compose-preview').innerText.includes('toàn bộ học phí')")
        image = page.locator("#compose-preview img").first
        page.wait_for_function("(() => { const i = document.querySelector('#compose-preview img');"
                               " return i && i.complete && i.naturalWidth > 0; })()")
        width = image.evaluate("img => img.naturalWidth")
        shown = page.inner_text("#compose-preview")
        shot(page, "web-compose-preview")
        page.click("#save")
        page.wait_for_url(re.compile(r"/approvals/\d+$"))
        saved = page.inner_text("main")
        shot(page, "web-compose-saved")
    assert width == 1080 and words in shown and "Chưa thể đăng" not in shown
    assert words in saved
    [row] = _posts(opened)
    assert row.author == "bien-tap" and row.variables == {"noi_dung": words} and list(row.infographics) == ["vuong"]
