"""The audit pages and API (issue 8): the journal, its CSV and check, coverage, dossiers, agency walls.

Real data through the library: policies, posts approved with ``tests/helpers``
and published by the real :class:`Dispatcher` to the outbox channels.  Every
case with a database runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from publisher import i18n
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.store.engine import write
from publisher.web.templating import PACKAGE_TEMPLATES

from .conftest import web_server
from .helpers import add_policy, approved_post
from .webtools import XSS, add_user, add_users, browser_login, login_as, shot, watched, web_client

TITLE = "Nghị quyết hỗ trợ học phí cho học sinh vùng khó khăn"
XA_CODE = "7/2026/QĐ-UBND"
USERS = (("bien-tap", "editor", "tinh"), ("truong-phong", "approver", "tinh"), ("kiem-tra", "auditor", None),
         ("quan-tri", "admin", None), ("xa-kiem-tra", "auditor", "xa"))


def _today(app: App) -> str:
    return datetime.now(app.config.timezone).date().isoformat()


def _world(opened: App) -> dict[str, Any]:
    """Two high-impact policies opened today (tinh: published to both channels; xa: published), one later."""
    today = datetime.now(opened.config.timezone).date()
    lifecycle = {"consultation_opens": today.isoformat(), "consultation_closes": (today + timedelta(30)).isoformat()}
    tinh = add_policy(opened, title=TITLE, **lifecycle)
    xa = add_policy(opened, XA_CODE, agency="xa", title="Quyết định của xã", **lifecycle)
    tinh_dids = approved_post(opened)
    [xa_did] = approved_post(opened, channels=("xa-fanpage",), code=XA_CODE, agency="xa")
    assert Dispatcher(opened, "may-1").run_once() == {"published": 3}
    return {"tinh": tinh, "xa": xa, "tinh_dids": tinh_dids, "xa_did": xa_did}


@pytest.fixture
def app(project: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", backend)
    opened = App.open(project / "config.toml")
    add_users(opened, USERS)
    yield opened
    opened.close()


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/audit/entry/(\d+)">\d+</a>', html)]


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- the journal ---------------------------------------------------------------------------------

def test_the_journal_lists_entries_newest_first_and_filters_work(app):
    world = _world(app)
    client, _ = login_as(app, "kiem-tra")
    page = client.get("/audit")
    assert page.status_code == 200 and "Sổ nhật ký kiểm tra" in page.text
    all_seqs = _seqs(page.text)
    assert all_seqs == sorted(all_seqs, reverse=True) and len(all_seqs) > 10
    assert "post.approved" in page.text and "truong-phong" in page.text and "user:bien-tap" in page.text
    posts = _seqs(client.get("/audit", params={"event": "post."}).text)
    api = client.get("/api/v1/journal", params={"event": "post."}).json()
    assert [e["seq"] for e in api["items"]] == posts and {e["event"] for e in api["items"]} == {
        "post.created", "post.approved"}
    approver = [e["event"] for e in client.get("/api/v1/journal", params={"actor": "truong-phong"}).json()["items"]]
    assert approver.count("post.approved") == 2 and set(approver) == {"post.approved", "delivery.queued"}
    one = client.get("/api/v1/journal", params={"subject": f"delivery:{world['xa_did']}"}).json()["items"]
    assert {e["subject"] for e in one} == {f"delivery:{world['xa_did']}"} and "delivery.published" in {
        e["event"] for e in one}
    kinds = client.get("/api/v1/journal", params={"subject": "delivery:"}).json()
    assert kinds["total"] > 3 and all(e["subject"].startswith("delivery:") for e in kinds["items"])
    today = _today(app)
    assert len(_seqs(client.get("/audit", params={"since": today, "until": today}).text)) == len(all_seqs)
    yesterday = (datetime.fromisoformat(today) - timedelta(days=1)).strftime("%d/%m/%Y")
    empty = client.get("/audit", params={"until": yesterday})
    assert _seqs(empty.text) == [] and "Không có mục nào khớp" in empty.text
    bad = client.get("/audit", params={"since": "hôm qua"})
    assert bad.status_code == 400 and "hôm qua" in bad.text
    assert client.get("/api/v1/journal", params={"since": "x"}).status_code == 400
    entry = client.get(f"/audit/entry/{posts[-1]}")
    assert entry.status_code == 200 and "post.created" in entry.text and "Mục nhật ký số" in entry.text
    for missing in ("/audit/entry/99999", "/audit/entry/abc", f"/audit/entry/{2**40}"):
        assert client.get(missing).status_code == 404


def test_the_journal_is_paginated_a_hundred_a_page(app):
    add_policy(app)
    for _ in range(30):
        approved_post(app, at=datetime.now(app.config.timezone) + timedelta(days=1))
    client, _ = login_as(app, "quan-tri")
    first = client.get("/audit").text
    total = client.get("/api/v1/journal").json()["total"]
    assert total > 120 and len(_seqs(first)) == 100 and 'rel="next" href="/audit?page=2"' in first
    second = client.get("/audit", params={"page": "2"}).text
    assert _seqs(first)[-1] == _seqs(second)[0] + 1 and 'rel="prev"' in second
    page2 = client.get("/api/v1/journal", params={"page": 2}).json()
    assert [e["seq"] for e in page2["items"]] == _seqs(second) and page2["per_page"] == 100
    assert f"{total} mục · trang 1/{(total + 99) // 100}" in first


def test_the_csv_has_a_bom_reads_as_utf8_and_honours_the_filters(app):
    _world(app)
    client, _ = login_as(app, "kiem-tra")
    page = client.get("/audit", params={"event": "policy."}).text
    assert 'href="/audit/journal.csv?event=policy."' in page and "Tải CSV" in page
    response = client.get("/audit/journal.csv", params={"event": "policy."})
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.isascii() and ".csv" in disposition
    rows = _csv(response)
    assert list(rows[0]) == ["seq", "time", "actor", "event", "subject", "payload", "hash"]
    assert {r["event"] for r in rows} == {"policy.created"} and len(rows) == 2
    assert any(TITLE in r["payload"] for r in rows)  # Vietnamese, readable, not \u escapes
    everything = _csv(client.get("/audit/journal.csv"))
    assert len(everything) == client.get("/api/v1/journal").json()["total"] > len(rows)
    assert [int(r["seq"]) for r in everything] == sorted(int(r["seq"]) for r in everything)


def test_the_chain_shows_intact_then_the_tampered_entry(app):
    _world(app)
    client, _ = login_as(app, "kiem-tra")
    page = client.get("/audit").text
    verify = client.get("/api/v1/journal/verify").json()
    assert verify["ok"] is True and verify["broken"] is None
    head = verify["head"]
    assert head["anchor"] == f"{head['seq']}:{head['hash']}" and head["seq"] == verify["checked"]
    assert "Chuỗi băm toàn vẹn" in page and head["anchor"] in page
    assert f"Sổ nhật ký toàn vẹn: {verify['checked']} mục, mã băm đầu chuỗi {head['hash']}" in page
    with write(app.engine) as conn:
        conn.execute(text("UPDATE journal SET payload = :p WHERE seq = 3"), {"p": '{"sua":"lén"}'})
    broken = client.get("/audit").text
    assert "chuỗi băm bị phá vỡ" in broken and "mục số 3 không khớp chuỗi băm" in broken
    assert "Nội dung hoặc mã băm của mục số 3 đã bị sửa." in broken and 'href="/audit/entry/3"' in broken
    verify = client.get("/api/v1/journal/verify").json()
    assert verify["ok"] is False and verify["head"] is None
    assert (verify["broken"]["seq"], verify["broken"]["reason"]) == (3, "edited")
    english, _ = login_as(app, "kiem-tra")
    english.get("/lang/en")
    assert "was altered" in english.get("/api/v1/journal/verify").json()["message"]


# --- coverage and dossiers -------------------------------------------------------------------------

def test_the_coverage_page_shows_the_figure_and_an_svg_chart(app):
    _world(app)
    add_policy(app, "20/2026/NQ-HĐND", consultation_opens=_today(app))  # in scope, nothing queued
    year = str(datetime.now(app.config.timezone).year)
    client, _ = login_as(app, "kiem-tra")
    page = client.get("/audit/coverage", params={"year": year})
    assert page.status_code == 200 and "Báo cáo tỷ lệ truyền thông chính sách" in page.text
    assert "66,7%" in page.text and "2/3" in page.text and "CHƯA ĐẠT" in page.text
    assert '<svg class="coverage-chart" id="chart"' in page.text and "<rect class=" in page.text
    reason = i18n.raw_catalogue()["coverage.reason.nothing_queued"]["vi"]
    assert "20/2026/NQ-HĐND" in page.text and reason in page.text
    assert f'href="/audit/coverage.csv?year={year}"' in page.text
    assert client.get("/audit/coverage").text.count("66,7%") == 1  # this year by default
    rows = _csv(client.get("/audit/coverage.csv", params={"year": year}))
    assert sorted(r["covered"] for r in rows) == ["false", "true", "true"]
    assert [r["reason_text"] for r in rows if r["covered"] == "false"] == [reason]
    assert {r["code"] for r in rows} == {"12/2026/NQ-HĐND", XA_CODE, "20/2026/NQ-HĐND"}
    api = client.get("/api/v1/coverage", params={"year": year}).json()
    assert (api["in_scope"], api["covered"], api["from"]) == (3, 2, f"{year}-01-01")
    assert api["reasons"]["nothing_queued"] == 1 and api["by_channel"] == {"fanpage": 1, "portal": 1,
                                                                           "xa-fanpage": 1}
    assert client.get("/audit/coverage", params={"year": "20x6"}).status_code == 400
    assert client.get("/api/v1/coverage", params={"year": "20x6"}).status_code == 400


def test_the_dossier_downloads_as_a_zip_whose_sums_match(app):
    world = _world(app)
    client, _ = login_as(app, "kiem-tra")
    response = client.get(f"/audit/dossier/{world['tinh'].id}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.isascii() and "ho-so-12-2026-NQ-HDND" in disposition
    z = zipfile.ZipFile(io.BytesIO(response.content))
    listed = dict(reversed(line.split("  ", 1)) for line in z.read("SHA256SUMS").decode("ascii").splitlines())
    assert set(listed) == set(z.namelist()) - {"SHA256SUMS"} and "journal.json" in listed
    for name, digest in listed.items():
        assert hashlib.sha256(z.read(name)).hexdigest() == digest, name
    for missing in ("/audit/dossier/99999", "/audit/dossier/abc"):
        assert client.get(missing).status_code == 404


# --- walls ---------------------------------------------------------------------------------------

def test_an_agency_bound_auditor_sees_only_their_agency(app):
    world = _world(app)
    xa, _ = login_as(app, "xa-kiem-tra")
    items = xa.get("/api/v1/journal").json()["items"]
    subjects = {e["subject"] for e in items}
    xa_post = next(e["subject"] for e in items if e["event"] == "post.created")
    assert subjects == {f"policy:{world['xa'].id}", xa_post, f"delivery:{world['xa_did']}", "agency:xa"}
    page = xa.get("/audit").text
    assert "user:" not in page and "agency:tinh" not in page and TITLE not in page
    csv_rows = _csv(xa.get("/audit/journal.csv"))
    assert {r["subject"] for r in csv_rows} == subjects
    tinh_entry = next(e["seq"] for e in login_as(app, "kiem-tra")[0].get("/api/v1/journal").json()["items"]
                      if e["subject"] == f"policy:{world['tinh'].id}")
    assert xa.get(f"/audit/entry/{tinh_entry}").status_code == 404
    assert xa.get(f"/audit/dossier/{world['tinh'].id}").status_code == 404
    assert xa.get(f"/audit/dossier/{world['xa'].id}").status_code == 200
    coverage = xa.get("/audit/coverage", params={"agency": "tinh"}).text
    assert XA_CODE in coverage and "12/2026/NQ-HĐND" not in coverage and "100%" in coverage
    api = xa.get("/api/v1/coverage", params={"agency": "tinh"}).json()
    assert api["agency"] == "xa" and [p["code"] for p in api["policies"]] == [XA_CODE]
    everyone = login_as(app, "kiem-tra")[0].get("/api/v1/journal", params={"subject": "user:"}).json()
    assert everyone["total"] == len(USERS)  # accounts of every agency see the user entries


def test_a_script_in_a_payload_comes_back_inert(app):
    add_policy(app, "99/2026/NQ-HĐND", title=f"Chính sách {XSS}", summary=f"Tóm tắt {XSS}")
    client, _ = login_as(app, "kiem-tra")
    seq = client.get("/api/v1/journal", params={"event": "policy.created"}).json()["items"][0]["seq"]
    for html in (client.get("/audit").text, client.get(f"/audit/entry/{seq}").text,
                 client.get("/audit/coverage").text):
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in client.get(f"/audit/entry/{seq}").text
    assert XSS in client.get("/api/v1/journal").json()["items"][0]["payload"]["title"]


def test_the_openapi_document_lists_the_audit_api(app):
    spec = web_client(app).get("/api/openapi.json").json()
    assert {"/api/v1/journal", "/api/v1/journal/verify", "/api/v1/coverage"} <= set(spec["paths"])
    assert all(path.startswith("/api/") for path in spec["paths"])
    assert {"JournalPage", "JournalEntryOut", "VerificationOut", "CoverageOut"} <= set(spec["components"]["schemas"])
    params = {p["name"] for p in spec["paths"]["/api/v1/coverage"]["get"]["parameters"]}
    assert {"year", "from", "to", "agency"} <= params


def test_every_word_the_audit_pages_use_is_in_both_languages():
    used = set()
    html = ""
    for path in (PACKAGE_TEMPLATES / "audit").glob("*.html"):
        html += path.read_text(encoding="utf-8")
    used = set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", html))
    raw = i18n.raw_catalogue()
    assert len(used) > 30 and sorted(k for k in used if set(raw.get(k, {})) != set(i18n.LANGUAGES)) == []
    assert "<script" not in html and " style=" not in html and "<style" not in html


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def site(project: Path, sqlite_app: App) -> Iterator[str]:
    """``publisher web`` on a free loopback port over published posts, with an auditor account."""
    add_user(sqlite_app, "kiem-tra", "auditor", display_name="Lê Văn Kiểm")
    _world(sqlite_app)
    with web_server(project) as url:
        yield url


def test_an_auditor_reads_the_journal_downloads_the_csv_and_sees_the_chart(site: str, browser: Any,
                                                                            tmp_path: Path) -> None:
    with watched(browser, accept_downloads=True) as (page, _):  # the strict CSP blocks nothing, no request fails
        browser_login(page, site, "kiem-tra")
        page.goto(f"{site}/audit")
        assert "Chuỗi băm toàn vẹn" in page.inner_text("#verify")
        assert page.locator("table.audit-journal tbody tr").count() > 10
        shot(page, "web-audit-journal")
        with page.expect_download() as info:
            page.click("#csv")
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        page.click("text=Báo cáo tỷ lệ truyền thông chính sách")
        page.wait_for_load_state()
        chart = page.locator("#chart")
        assert chart.is_visible() and chart.bounding_box()["height"] > 100
        bar = page.evaluate("getComputedStyle(document.querySelector('#chart rect')).fill")
        figure = page.inner_text("#figure")
        shot(page, "web-audit-coverage")
    data = saved.read_bytes()
    assert saved.name.startswith("nhat-ky-") and data.startswith(b"\xef\xbb\xbf")
    assert TITLE in data.decode("utf-8-sig")
    assert "100%" in figure and bar not in ("", "rgb(0, 0, 0)")  # web.css coloured the bars
