"""One storage contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from publisher import journal, service
from publisher.errors import InputError, StateError
from publisher.models import DeliveryState, utcnow
from publisher.store import deliveries as store
from publisher.store.engine import read, write
from publisher.store.schema import deliveries as t_deliveries
from publisher.store.schema import journal as t_journal

from .helpers import add_policy, approved_post

S = DeliveryState


def test_policy_round_trip_keeps_dates_and_vietnamese(app):
    created = add_policy(app)
    again = service.get_policy(app, created.code)
    assert again == created
    assert again.code == "12/2026/NQ-HĐND" and again.consultation_closes.isoformat() == "2026-12-31"
    assert [p.code for p in service.list_policies(app, "tinh")] == [created.code]
    assert service.list_policies(app, "xa") == []


def test_policy_codes_are_unique_per_agency_only(app):
    add_policy(app)
    add_policy(app, agency="xa")
    with pytest.raises(InputError):
        add_policy(app)
    with pytest.raises(InputError, match="--agency"):
        service.get_policy(app, "12/2026/NQ-HĐND")  # ambiguous without the agency


def test_times_come_back_as_the_same_aware_utc_instant(app):
    add_policy(app)
    at = (utcnow() + timedelta(days=3)).replace(microsecond=123456)
    [did, _] = approved_post(app, at=at)
    with read(app.engine) as conn:
        got = store.get(conn, did)
    assert got.due_at == at and got.due_at.utcoffset() == timedelta(0)


def test_claim_takes_due_work_once_and_leaves_future_work(app):
    add_policy(app)
    due = approved_post(app)
    approved_post(app, channels=("portal",), at=utcnow() + timedelta(hours=1))
    now = utcnow()
    with write(app.engine) as conn:
        first = store.claim(conn, "w1", now, timedelta(seconds=60), 10, ["portal", "fanpage"])
    with write(app.engine) as conn:
        second = store.claim(conn, "w2", now, timedelta(seconds=60), 10, ["portal", "fanpage"])
    assert sorted(d.id for d in first) == sorted(due)
    assert second == []
    assert all(d.state == S.PUBLISHING and d.lease_owner == "w1" for d in first)


def test_claim_ignores_channels_not_served(app):
    add_policy(app)
    approved_post(app, channels=("portal",))
    with write(app.engine) as conn:
        assert store.claim(conn, "w", utcnow(), timedelta(seconds=5), 10, ["fanpage"]) == []


def test_expired_leases_are_found_and_next_wakeup_sees_them(app):
    add_policy(app)
    [did] = approved_post(app, channels=("portal",))
    now = utcnow()
    with write(app.engine) as conn:
        store.claim(conn, "w1", now, timedelta(seconds=30), 10, ["portal"])
    with read(app.engine) as conn:
        assert store.next_wakeup(conn, ["portal"]) == now + timedelta(seconds=30)
    with write(app.engine) as conn:
        assert store.expired(conn, now + timedelta(seconds=29)) == []
        assert [d.id for d in store.expired(conn, now + timedelta(seconds=31))] == [did]


def test_guarded_transition_refuses_illegal_moves_and_lost_leases(app):
    add_policy(app)
    [did] = approved_post(app, channels=("portal",))
    with write(app.engine) as conn:
        store.claim(conn, "w1", utcnow(), timedelta(seconds=30), 10, ["portal"])
    with pytest.raises(StateError), write(app.engine) as conn:
        store.transition(conn, did, S.PUBLISHED, owner="w2")  # not w2's lease
    with write(app.engine) as conn:
        store.transition(conn, did, S.PUBLISHED, owner="w1", remote_id="x")
    with pytest.raises(StateError), write(app.engine) as conn:
        store.transition(conn, did, S.QUEUED)  # published is terminal
    with read(app.engine) as conn:
        assert store.get(conn, did).state == S.PUBLISHED


def test_a_failed_transaction_leaves_no_trace(app):
    add_policy(app)
    with read(app.engine) as conn:
        before = journal.head(conn)
    with pytest.raises(RuntimeError), write(app.engine) as conn:
        journal.append(conn, "x", "test.event", "policy:1", {})
        raise RuntimeError("crash inside the transaction")
    with read(app.engine) as conn:
        assert journal.head(conn) == before


def test_journal_chain_verifies_and_detects_edits_deletions_and_reordering(app):
    add_policy(app)
    approved_post(app)
    with read(app.engine) as conn:
        count, bad = journal.verify(conn)
    assert count >= 5 and bad is None
    with write(app.engine) as conn:
        conn.execute(update(t_journal).where(t_journal.c.seq == 3).values(actor="ke-gian"))
    with read(app.engine) as conn:
        assert journal.verify(conn)[1] == 3


def test_journal_detects_a_deleted_entry(app):
    add_policy(app)
    approved_post(app)
    with write(app.engine) as conn:
        conn.execute(t_journal.delete().where(t_journal.c.seq == 2))
    with read(app.engine) as conn:
        assert journal.verify(conn)[1] == 3


def test_journal_and_state_change_commit_together(app):
    add_policy(app)
    [did, _] = approved_post(app)
    with read(app.engine) as conn:
        queued = conn.execute(select(t_journal.c.subject).where(t_journal.c.event == "delivery.queued")).scalars().all()
        states = conn.execute(select(t_deliveries.c.state)).scalars().all()
    assert f"delivery:{did}" in queued and set(states) == {"queued"}
