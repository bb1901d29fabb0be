"""The dashboard: today and this week, failures that need a person, channel health, the year's coverage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from publisher import journal
from publisher.models import DeliveryState, utcnow
from publisher.store import deliveries as store
from publisher.store.engine import write
from publisher.store.schema import deliveries

from .helpers import add_policy, approved_post
from .webtools import add_user, login_as

S = DeliveryState


def _fail(app, did, error):
    with write(app.engine) as conn:
        store.transition(conn, did, S.FAILED, last_error=error)


def _page(app, username="bien-tap"):
    client, _ = login_as(app, username)
    return client.get("/").text


def _section(html, section_id):
    return html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_today_this_week_and_later_work_land_in_their_boxes(app):
    add_user(app)
    add_policy(app)
    [soon] = approved_post(app, channels=("portal",), at=utcnow() + timedelta(seconds=90))
    [later] = approved_post(app, channels=("fanpage",), at=utcnow() + timedelta(days=40), template="thong-tin",
                            variables={"noi_dung": "Tin sau."})
    html = _page(app)
    today, week = _section(html, "hom-nay"), _section(html, "tuan-nay")
    assert f"#{soon}<" in today and f"#{soon}<" in week  # today is in this week too
    assert f"#{later}<" not in today + week
    assert "(1)" in today and 'class="state-queued"' in today


def test_failures_need_a_person_and_their_error_is_shown_inert(app):
    add_user(app)
    add_policy(app)
    [did] = approved_post(app, channels=("portal",))
    _fail(app, did, "<script>alert(1)</script> Mã truy cập hết hạn")
    failed = _section(_page(app), "can-xu-ly")
    assert f"/deliveries/{did}" in failed and "Mã truy cập hết hạn" in failed
    assert "<script>alert(1)" not in failed and "&lt;script&gt;" in failed


def test_an_agency_bound_user_sees_only_their_agency(app):
    add_user(app, "xa-bien-tap", agency="xa")
    add_policy(app)
    add_policy(app, agency="xa", code="05/2026/QĐ-UBND")
    [tinh] = approved_post(app, channels=("portal",), at=utcnow() + timedelta(seconds=90))
    [xa] = approved_post(app, channels=("xa-fanpage",), at=utcnow() + timedelta(seconds=90), code="05/2026/QĐ-UBND",
                         agency="xa")
    html = _page(app, "xa-bien-tap")
    assert f"#{xa}<" in _section(html, "hom-nay") and f"#{tinh}<" not in html
    channels = _section(html, "kenh")
    assert "xa-fanpage" in channels and "portal" not in channels


def test_a_failed_channel_check_shows_until_the_channel_is_healthy_again(app):
    add_user(app)
    with write(app.engine) as conn:
        journal.append(conn, "may-1", "channel.check_failed", "channel:fanpage", {"detail": "Trang không tồn tại"})
    channels = _section(_page(app), "kenh")
    assert "Trang không tồn tại" in channels and "có sự cố" in channels
    with write(app.engine) as conn:
        journal.append(conn, "may-1", "channel.healthy", "channel:fanpage", {})
    assert "có sự cố" not in _section(_page(app), "kenh")


def test_the_coverage_gauge_shows_the_year_against_the_target(app):
    add_user(app)
    add_policy(app, impact="high")  # consultation opens 2026-12-01: in this year's scope, not yet communicated
    gauge = _section(_page(app), "ty-le")
    assert "0/1 chính sách (0%), mục tiêu 70%" in gauge and "chưa đạt" in gauge and "<svg" in gauge


def test_a_full_box_counts_the_rest_within_the_users_agency(app):
    add_user(app, "quan-tri", "admin")
    add_user(app, "tinh-bien-tap", agency="tinh")
    add_user(app, "xa-bien-tap", agency="xa")
    add_policy(app)
    add_policy(app, agency="xa", code="05/2026/QĐ-UBND")
    soon = utcnow() + timedelta(seconds=90)
    for _ in range(6):
        approved_post(app, channels=("portal", "fanpage"), at=soon)  # 12 of tinh today
    for _ in range(3):
        approved_post(app, channels=("xa-fanpage",), at=soon, code="05/2026/QĐ-UBND", agency="xa")
    shown = {name: _section(_page(app, name), "hom-nay") for name in ("quan-tri", "tinh-bien-tap", "xa-bien-tap")}
    assert "(15)" in shown["quan-tri"] and "và 5 lượt đăng khác" in shown["quan-tri"]
    assert "(12)" in shown["tinh-bien-tap"] and "và 2 lượt đăng khác" in shown["tinh-bien-tap"]
    assert "(3)" in shown["xa-bien-tap"] and "lượt đăng khác" not in shown["xa-bien-tap"]
    assert all(text.count("/deliveries/") == n for text, n in zip(shown.values(), (10, 10, 3), strict=True))


def test_the_boxes_list_the_soonest_first_whatever_their_state(app):
    add_user(app)
    add_policy(app)
    start = utcnow() + timedelta(seconds=120)
    later = [approved_post(app, channels=("portal",), at=start + timedelta(seconds=10 + i))[0] for i in range(11)]
    [first] = approved_post(app, channels=("fanpage",), at=start)
    with write(app.engine) as conn:  # waiting for a retry (as after a failed try), due before all the queued ones
        conn.execute(update(deliveries).where(deliveries.c.id == first).values(state=S.WAITING))
    today = _section(_page(app), "hom-nay")
    shown = [int(part.split("<", 1)[0]) for part in today.split(">#")[1:]]
    assert shown == [first, *later[:9]] and "(12)" in today and "và 2 lượt đăng khác" in today
