"""``publisher dossier``: the ZIP an inspector gets, checked against the database itself.

Real data through the library on both engines: a policy with a published post
(with an image) and a cancelled one, and a second policy whose entries must
stay out of the slice.  Every claim the dossier makes (hashes, texts, images,
receipts, the journal slice and its place in the chain) is recomputed here.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import unicodedata
import zipfile
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher import dossier, dossier_files, i18n, journal, posts
from publisher.cli import cli
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ExitCode, InputError
from publisher.models import utcnow
from publisher.service import find_policy
from publisher.store import rows
from publisher.store.engine import read
from publisher.store.schema import attempts, deliveries
from publisher.store.schema import journal as journal_table
from publisher.store.schema import posts as posts_table

from .conftest import POLICY, run_cli, screenshot_path
from .helpers import add_policy, approved_post, write_png

CODE = POLICY["code"]  # "12/2026/NQ-HĐND"
OTHER = "99/2026/QĐ-UBND"
HOSTILE = "<script>alert('x')</script> Quyết định <b>phí</b>"
TEMPLATE = Path(dossier_files.__file__).parent / "reports_html" / "dossier.html.j2"


@pytest.fixture
def world(app: App, project: Path) -> App:
    """Policy CODE: a published post with an image, a cancelled post; OTHER: a published post."""
    policy = add_policy(app)
    add_policy(app, code=OTHER, title=HOSTILE)
    approved_post(app, media=[str(write_png(project / "anh-minh-hoa.png"))], template="thong-tin",
                  variables={"noi_dung": "Mời góp ý dự thảo."})
    later = approved_post(app, channels=("fanpage",), at=utcnow() + timedelta(days=2))
    approved_post(app, code=OTHER, channels=("fanpage",))
    assert Dispatcher(app, "worker").run_once() == {"published": 3}
    post_id = _post_of(app, later[0])
    posts.cancel(app, "truong-phong", post_id, reason="Dự thảo đã thay đổi")
    assert policy.id
    return app


def _post_of(app: App, delivery_id: int) -> int:
    with read(app.engine) as conn:
        return conn.execute(select(deliveries.c.post_id).where(deliveries.c.id == delivery_id)).scalar_one()


def _export(app: App, tmp: Path, code: str = CODE) -> zipfile.ZipFile:
    written = dossier.export(app, "thanh-tra", code, output=tmp / "ho-so.zip")
    assert written.path == tmp / "ho-so.zip" and written.missing == ()
    return zipfile.ZipFile(written.path)


def _json(z: zipfile.ZipFile, name: str) -> Any:
    return json.loads(z.read(name).decode("utf-8"))


def test_sha256sums_cover_every_file_and_match(world: App, project: Path) -> None:
    z = _export(world, project)
    lines = z.read("SHA256SUMS").decode("ascii").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == set(z.namelist()) - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256(z.read(name)).hexdigest() == digest, name
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_journal_slice_is_the_database_and_links_to_the_chain(world: App, project: Path) -> None:
    z = _export(world, project)
    sliced = _json(z, "journal.json")
    with read(world.engine) as conn:
        subjects = _subjects(conn)
        stored = [_row(r) for r in conn.execute(select(journal_table).order_by(journal_table.c.seq))]
        assert journal.verify(conn) == (len(stored), None)
        head = journal.head(conn)
    assert [e for e in stored if e["subject"] in subjects] == sliced["entries"]  # all of them, nothing else
    assert sliced["head"] == {"seq": head[0], "hash": head[1]}
    by_seq = {e["seq"]: e for e in stored}
    for e in sliced["entries"]:
        at = datetime.fromisoformat(e["at"])
        assert journal.entry_hash(e["prev_hash"], e["seq"], at, e["actor"], e["event"], e["subject"],
                                  e["payload"]) == e["hash"]
        assert by_seq[e["seq"]]["hash"] == e["hash"]
    events = {(e["subject"].split(":")[0], e["event"]) for e in sliced["entries"]}
    assert {("policy", "policy.created"), ("post", "post.approved"), ("post", "post.cancelled"),
            ("delivery", "delivery.published"), ("delivery", "delivery.cancelled")} <= events


def _subjects(conn: Any) -> set[str]:
    """policy:, post: and delivery: subjects of CODE, read straight from the tables."""
    pid = find_policy(conn, CODE).id
    post_ids = list(conn.execute(select(posts_table.c.id).where(posts_table.c.policy_id == pid)).scalars())
    dids = conn.execute(select(deliveries.c.id).where(deliveries.c.post_id.in_(post_ids))).scalars()
    return {f"policy:{pid}"} | {f"post:{i}" for i in post_ids} | {f"delivery:{i}" for i in dids}


def _row(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "event": r.event, "subject": r.subject,
            "payload": r.payload, "prev_hash": r.prev_hash, "hash": r.hash}


def test_other_policy_stays_out(world: App, project: Path) -> None:
    z = _export(world, project)
    entries = _json(z, "journal.json")["entries"]
    assert all(OTHER not in e["payload"] for e in entries)
    other = _json(_export(world, project / "data", OTHER), "journal.json")["entries"]
    assert not {e["seq"] for e in entries} & {e["seq"] for e in other}


def test_texts_are_byte_exact_and_media_match_their_sha256(world: App, project: Path) -> None:
    z = _export(world, project)
    shown = {a["id"]: a for p in _json(z, "posts.json") for a in p["approved"]}
    with read(world.engine) as conn:
        found = conn.execute(rows.delivery_select().where(deliveries.c.id.in_(shown))).all()
    assert len(found) == 3
    for d in found:
        assert z.read(f"texts/delivery-{d.id}/title.txt") == d.title.encode("utf-8")
        assert z.read(f"texts/delivery-{d.id}/body.txt") == d.body.encode("utf-8")
        assert (shown[d.id]["title"], shown[d.id]["body"]) == (d.title, d.body)
        assert rows.delivery(d).content.sha256() == shown[d.id]["content_sha256"] == d.content_sha256
        for m in rows.delivery(d).content.media:
            data = z.read(f"media/{Path(m.path).name}")
            assert hashlib.sha256(data).hexdigest() == m.sha256
            assert data == (world.data_dir / m.path).read_bytes()



def test_content_sha256_is_the_formula_the_page_states(world: App, project: Path) -> None:
    z = _export(world, project)
    for a in (a for p in _json(z, "posts.json") for a in p["approved"]):
        media = [{"name": m["name"], "sha256": m["sha256"]} for m in a["media"]]
        shown = json.dumps({"title": a["title"], "body": a["body"], "media": media}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(shown.encode("utf-8")).hexdigest() == a["content_sha256"]
    assert [Path(m).stem for m in z.namelist() if m.startswith("media/")] == [
        hashlib.sha256(z.read(m)).hexdigest() for m in z.namelist() if m.startswith("media/")]


def test_receipts_attempts_and_approvals(world: App, project: Path) -> None:
    z = _export(world, project)
    receipts = {r["id"]: r for r in _json(z, "receipts.json")}
    with read(world.engine) as conn:
        stored = {r.id: r for r in conn.execute(select(deliveries).where(deliveries.c.id.in_(receipts)))}
        tries = conn.execute(select(attempts).where(attempts.c.delivery_id.in_(receipts))).all()
    for did, r in receipts.items():
        d = stored[did]
        assert (r["state"], r["channel"], r["remote_id"], r["permalink"], r["content_sha256"]) == (
            d.state, d.channel, d.remote_id, d.permalink, d.content_sha256)
        assert [(a["number"], a["worker"], a["outcome"], a["permalink"]) for a in r["attempts"]] == [
            (a.number, a.worker, a.outcome, a.permalink) for a in tries if a.delivery_id == did]
    assert sorted(r["state"] for r in receipts.values()) == ["cancelled", "published", "published"]
    approvals = _json(z, "approvals.json")
    assert {(a["author"], a["approver"]) for a in approvals} == {("bien-tap", "truong-phong")}
    [cancelled] = [a for a in approvals if a["cancellations"]]
    assert cancelled["cancellations"][0]["reason"] == "Dự thảo đã thay đổi"
    assert cancelled["cancellations"][0]["actor"] == "truong-phong"


class Page(HTMLParser):
    """What a browser would see: tags, links, images, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attr(self, tag: str, name: str) -> list[str]:
        return [a[name] or "" for t, a in self.tags if t == tag and name in a]


def _page(z: zipfile.ZipFile) -> tuple[str, Page]:
    html = z.read("index.html").decode("utf-8")
    page = Page()
    page.feed(html)
    page.close()
    return html, page


def test_index_html_is_self_contained_and_shows_the_evidence(world: App, project: Path) -> None:
    z = _export(world, project)
    html, page = _page(z)
    assert unicodedata.is_normalized("NFC", html)
    assert {"charset": "utf-8"} in [a for t, a in page.tags if t == "meta"]
    assert page.attr("html", "lang") == ["vi"]
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object")]
    assert POLICY["title"] in "".join(page.text)
    assert i18n.t("dossier.title") in "".join(page.text)
    permalinks = [r["permalink"] for r in _json(z, "receipts.json") if r["permalink"]]
    assert len(permalinks) == 2 and set(permalinks) <= set(page.attr("a", "href"))
    images = page.attr("img", "src")
    assert images and set(images) <= set(z.namelist())  # relative links to files inside the ZIP
    assert all("://" not in src for src in images)
    head = _json(z, "journal.json")["head"]
    assert head["hash"] in html


def test_index_html_shows_the_vietnamese_text_in_a_real_browser(world: App, project: Path, tmp_path: Path,
                                                                 browser: Any) -> None:
    z = _export(world, project)
    z.extractall(tmp_path / "ho-so")
    page = browser.new_page()
    try:
        page.goto((tmp_path / "ho-so" / "index.html").as_uri())
        shown = page.inner_text("body")
        page.screenshot(path=str(screenshot_path(f"dossier-index-{world.engine.dialect.name}")), full_page=True)
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    finally:
        page.close()
    assert unicodedata.normalize("NFC", POLICY["title"]) in shown and i18n.t("dossier.title") in shown
    assert images and all(done and width > 0 for done, width in images)  # the frozen images load from the ZIP


def test_hostile_title_is_inert(world: App, project: Path) -> None:
    html, page = _page(_export(world, project, OTHER))
    assert not [t for t, _ in page.tags if t in ("script", "b")]
    assert "&lt;script&gt;" in html
    assert HOSTILE in "".join(page.text)


def test_the_how_to_check_snippet_verifies_the_slice(world: App, project: Path, tmp_path: Path) -> None:
    z = _export(world, project)
    html, _ = _page(z)
    snippet = html.split('<pre id="kiem-tra-nhat-ky">', 1)[1].split("</pre>", 1)[0]
    from html import unescape

    folder = tmp_path / "giai-nen"
    z.extractall(folder)
    done = subprocess.run([sys.executable, "-c", unescape(snippet)], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{len(_json(z, 'journal.json')['entries'])} OK"


def test_template_uses_only_catalogued_keys() -> None:
    import re

    source = TEMPLATE.read_text(encoding="utf-8")
    keys = set(re.findall(r"t\('([a-z_.]+)'", source)) - {"dossier.col.", "impact.", "post_state.", "moment.",
                                                          "state."}
    keys |= {f"dossier.col.{f}" for f in ("consultation_opens", "consultation_closes", "passed_on", "issued_on")}
    assert keys and keys <= set(i18n.catalogue())
    assert all(k.startswith("dossier.") for k in keys)


def test_english_dossier(world: App, project: Path) -> None:
    i18n.set_language("en")
    _, page = _page(_export(world, project))
    assert page.attr("html", "lang") == ["en"]
    assert i18n.catalogue()["dossier.title"]["en"] in "".join(page.text)


# --- the command ---------------------------------------------------------------------------------

def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["--as", "thanh-tra", *args], catch_exceptions=False)


def test_command_writes_the_default_name_here(world: App, project: Path) -> None:
    result = _invoke("dossier", CODE)
    assert result.exit_code == 0, result.output
    today = utcnow().astimezone(world.config.timezone).strftime("%Y%m%d")
    made = project / f"ho-so-12-2026-NQ-HDND-{today}.zip"
    assert made.is_file() and str(made.name) in result.stdout
    assert zipfile.ZipFile(made).testzip() is None
    (project / "ho-so").mkdir()
    assert _invoke("dossier", CODE, "--output", "ho-so").exit_code == 0  # a folder: the default name inside
    assert (project / "ho-so" / made.name).is_file()


def test_only_web_and_file_permalinks_are_links() -> None:
    assert dossier_files._link("https://www.facebook.com/111111_1") == "https://www.facebook.com/111111_1"
    assert dossier_files._link("file:///srv/outbox/1.json") == "file:///srv/outbox/1.json"
    assert dossier_files._link("javascript:alert(1)") is None and dossier_files._link(None) is None


def test_default_name_is_safe_for_any_file_system(app: App) -> None:
    at = datetime.fromisoformat("2026-12-01T20:00:00+00:00")  # 2 December in Hà Nội
    assert dossier.default_name(CODE, at, app) == "ho-so-12-2026-NQ-HDND-20261202.zip"
    assert dossier.default_name("../../Đề án số 5", at, app) == "ho-so-De-an-so-5-20261202.zip"
    assert dossier.default_name("///", at, app) == "ho-so-chinh-sach-20261202.zip"


def test_unknown_policy_is_not_found_and_writes_nothing(world: App, project: Path, backend: str) -> None:
    before = set(project.iterdir())
    done = run_cli("dossier", "KHONG-CO", cwd=project, env={"PUBLISHER_DATABASE_URL": backend})
    assert done.returncode == ExitCode.NOT_FOUND
    assert "KHONG-CO" in done.stderr and "Traceback" not in done.stderr
    assert set(project.iterdir()) == before


@pytest.mark.parametrize("where", ["thu-muc-khong-co/ho-so.zip", "config.toml/ho-so.zip"])
def test_unwritable_output_is_a_clear_error(world: App, project: Path, backend: str, where: str) -> None:
    before = set(project.rglob("*"))
    done = run_cli("dossier", CODE, "--output", where, cwd=project, env={"PUBLISHER_DATABASE_URL": backend})
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert where in done.stderr and "Traceback" not in done.stderr
    assert set(project.rglob("*")) == before


def test_a_failure_while_writing_leaves_nothing(world: App, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dossier_files, "_pack", full_disk)
    with pytest.raises(InputError, match="ho-so.zip"):
        dossier.export(world, "thanh-tra", CODE, output=project / "ho-so.zip")
    assert not [p for p in project.iterdir() if "ho-so" in p.name]


def test_missing_image_is_noted_named_and_exit_1(world: App, project: Path) -> None:
    with read(world.engine) as conn:
        [lost] = [m for media in conn.execute(select(posts_table.c.media)).scalars()
                  for m in rows.media_files(media)]
    (world.data_dir / lost.path).unlink()
    result = _invoke("dossier", CODE, "--output", "ho-so.zip")
    assert result.exit_code == ExitCode.FAILED
    assert lost.path in result.stderr
    z = zipfile.ZipFile(project / "ho-so.zip")
    assert _json(z, "dossier.json")["missing_media"] == [lost.path]
    assert f"media/{Path(lost.path).name}" not in z.namelist()
    assert lost.path in z.read("index.html").decode("utf-8")
