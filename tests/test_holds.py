"""Channels on hold: nothing of a held channel goes out, nothing is lost, both steps journalled."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from publisher import holds
from publisher.dispatch import Dispatcher
from publisher.errors import InputError, StateError
from publisher.models import DeliveryState
from publisher.store.engine import read
from publisher.store.schema import journal

from .conftest import run_cli
from .helpers import add_policy, approved_post, delivery

S = DeliveryState


def _events(app, event: str) -> list[dict]:
    with read(app.engine) as conn:
        rows = conn.execute(select(journal.c.actor, journal.c.subject, journal.c.payload)
                            .where(journal.c.event == event).order_by(journal.c.seq))
        return [{"actor": r.actor, "subject": r.subject, **json.loads(r.payload)} for r in rows]


def test_a_held_channel_publishes_nothing_until_released_and_the_others_go_on(app):
    add_policy(app)
    portal, fanpage = approved_post(app, channels=("portal", "fanpage"))
    held = holds.hold(app, "quan-tri", "fanpage", "  Đang cấp lại token Trang  ")
    assert (held.channel, held.reason, held.actor) == ("fanpage", "Đang cấp lại token Trang", "quan-tri")
    dispatcher = Dispatcher(app, "w1")
    try:
        assert dispatcher.due_channels() == ["portal"]
        dispatcher.run_once()
        assert delivery(app, portal).state == S.PUBLISHED
        assert delivery(app, fanpage).state == S.QUEUED  # waits: not failed, not cancelled
        assert dispatcher.claim(10, ["fanpage"]) == []  # even when asked for by name
        assert dispatcher.next_wakeup() is None  # nothing to wake for while it is held
        assert holds.release(app, "quan-tri", "fanpage").reason == "Đang cấp lại token Trang"
        assert dispatcher.due_channels() == ["fanpage"]
        dispatcher.run_once()
    finally:
        dispatcher.close()
    assert delivery(app, fanpage).state == S.PUBLISHED
    assert holds.current(app) == {}
    assert _events(app, "channel.held") == [{"actor": "quan-tri", "subject": "channel:fanpage",
                                             "reason": "Đang cấp lại token Trang"}]
    released = _events(app, "channel.released")
    assert [(e["actor"], e["subject"], e["reason"]) for e in released] == [
        ("quan-tri", "channel:fanpage", "Đang cấp lại token Trang")]
    assert released[0]["held_since"] == held.since.isoformat()


def test_refusals_change_nothing(app):
    with pytest.raises(InputError) as unknown:
        holds.hold(app, "quan-tri", "khong-co", "lý do")
    assert unknown.value.key == "hold.unknown_channel" and "portal" in unknown.value.params["known"]
    for reason in ("", "   "):
        with pytest.raises(InputError) as empty:
            holds.hold(app, "quan-tri", "portal", reason)
        assert empty.value.key == "hold.no_reason"
    with pytest.raises(InputError) as nul:
        holds.hold(app, "quan-tri", "portal", "lý do\x00")
    assert nul.value.key == "hold.bad_reason"
    with pytest.raises(InputError) as long_reason:
        holds.hold(app, "quan-tri", "portal", "x" * (holds.MAX_REASON + 1))
    assert long_reason.value.key == "hold.long_reason" and "500" in str(long_reason.value)
    with pytest.raises(StateError) as not_held:
        holds.release(app, "quan-tri", "portal")
    assert not_held.value.key == "hold.not_held"
    assert holds.current(app) == {} and _events(app, "channel.held") == []
    holds.hold(app, "quan-tri", "portal", "bảo trì cổng")
    with pytest.raises(StateError) as already:
        holds.hold(app, "khac", "portal", "lý do khác")
    assert already.value.key == "hold.already_held"
    assert holds.current(app)["portal"].actor == "quan-tri"
    assert len(_events(app, "channel.held")) == 1


def test_cli_hold_list_release_in_vietnamese(project):
    assert run_cli("channels", "holds", cwd=project).stdout.strip() == "Không có kênh nào đang tạm dừng."
    done = run_cli("--as", "quan-tri", "channels", "hold", "fanpage", "--reason", "Trang bị xâm nhập", cwd=project)
    assert done.returncode == 0 and "Đã tạm dừng kênh \"fanpage\"" in done.stdout
    listed = json.loads(run_cli("channels", "holds", "--json", cwd=project).stdout)
    assert [(h["channel"], h["reason"], h["actor"]) for h in listed] == [("fanpage", "Trang bị xâm nhập", "quan-tri")]
    assert "Trang bị xâm nhập" in run_cli("channels", "holds", cwd=project).stdout
    again = run_cli("channels", "hold", "fanpage", "--reason", "lần nữa", cwd=project)
    assert again.returncode == 4 and "đang tạm dừng rồi" in again.stderr and "Traceback" not in again.stderr
    unknown = run_cli("channels", "hold", "khong-co", "--reason", "x", cwd=project)
    assert unknown.returncode == 2 and "khong-co" in unknown.stderr and "portal" in unknown.stderr
    status = json.loads(run_cli("status", "--json", cwd=project).stdout)
    held = {c["channel"]: c["held"] for c in status["channels"]}
    assert held["portal"] is None and held["fanpage"]["reason"] == "Trang bị xâm nhập"
    assert "fanpage (tạm dừng)" in run_cli("status", cwd=project).stdout
    assert run_cli("channels", "release", "fanpage", cwd=project).returncode == 0
    assert "tạm dừng" not in run_cli("status", cwd=project).stdout
    not_held = run_cli("channels", "release", "fanpage", cwd=project)
    assert not_held.returncode == 4 and "không bị tạm dừng" in not_held.stderr


def test_the_dashboard_says_which_channel_is_on_hold_why_and_since_when(app):
    from .webtools import XSS, add_user, login_as

    add_user(app, "quan-tri", "admin")
    holds.hold(app, "quan-tri", "fanpage", f"Trang bị xâm nhập {XSS}")
    client, _ = login_as(app, "quan-tri")
    page = client.get("/").text
    box = page[page.index('id="kenh"'):]
    box = box[:box.index("</section>")]
    assert "tạm dừng từ" in box and "(quan-tri)" in box and "Trang bị xâm nhập" in box
    assert "<script>alert" not in box and "&lt;script&gt;" in box
    assert box.count("tạm dừng từ") == 1  # the portal goes on
    holds.release(app, "quan-tri", "fanpage")
    assert "tạm dừng từ" not in client.get("/").text
