"""The delivery state machine: every legal transition works, every other is refused."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from publisher import posts
from publisher.dispatch import Dispatcher
from publisher.errors import StateError
from publisher.models import TRANSITIONS, DeliveryState, PostState
from publisher.store import deliveries as store
from publisher.store.engine import read, write
from publisher.store.schema import deliveries

from .helpers import add_policy, approved_post

S = DeliveryState
PAIRS = list(itertools.product(S, S))


def _force(app, did, state):
    """Test setup only: put a delivery in *state* without going through the machine."""
    with write(app.engine) as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == did).values(state=state))


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_table_is_enforced(sqlite_app, source, target):
    add_policy(sqlite_app)
    [did] = approved_post(sqlite_app, channels=("portal",))
    _force(sqlite_app, did, source)
    legal = target in TRANSITIONS[source]
    if legal:
        with write(sqlite_app.engine) as conn:
            store.transition(conn, did, target)
    else:
        with pytest.raises(StateError), write(sqlite_app.engine) as conn:
            store.transition(conn, did, target)
    with read(sqlite_app.engine) as conn:
        assert store.get(conn, did).state == (target if legal else source)


def test_terminal_states_have_no_way_out_but_a_person_retrying_a_failed_one():
    assert not TRANSITIONS[S.PUBLISHED] and not TRANSITIONS[S.CANCELLED]
    assert TRANSITIONS[S.FAILED] == {S.QUEUED}  # publisher.retries.retry, journalled with the person


def test_a_cancelled_delivery_is_never_published(sqlite_app):
    add_policy(sqlite_app)
    post = posts.new_post(sqlite_app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                                   "channels": ["portal"], "at": "now"})
    [did] = posts.approve(sqlite_app, "truong-phong", post.id)
    posts.cancel(sqlite_app, "truong-phong", post.id, "dự thảo thay đổi")
    assert Dispatcher(sqlite_app, "w").run_once() == {}
    with read(sqlite_app.engine) as conn:
        assert store.get(conn, did).state == S.CANCELLED
    assert not (sqlite_app.data_dir / "outbox" / "portal" / f"{did}.json").exists()


def test_authors_cannot_approve_their_own_post(sqlite_app):
    add_policy(sqlite_app)
    post = posts.new_post(sqlite_app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                                   "channels": ["portal"]})
    with pytest.raises(StateError, match="tự duyệt"):
        posts.approve(sqlite_app, "bien-tap", post.id)
    assert posts.get(sqlite_app, post.id).state == PostState.DRAFT


def test_only_drafts_are_approved_and_cancel_is_once(sqlite_app):
    add_policy(sqlite_app)
    post = posts.new_post(sqlite_app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                                   "channels": ["portal"]})
    posts.approve(sqlite_app, "truong-phong", post.id)
    with pytest.raises(StateError):
        posts.approve(sqlite_app, "pho-phong", post.id)
    posts.cancel(sqlite_app, "truong-phong", post.id)
    with pytest.raises(StateError):
        posts.cancel(sqlite_app, "truong-phong", post.id)


def test_a_published_post_cannot_be_cancelled(sqlite_app):
    add_policy(sqlite_app)
    approved_post(sqlite_app, channels=("portal",))
    Dispatcher(sqlite_app, "w").run_once()
    with pytest.raises(StateError):
        posts.cancel(sqlite_app, "truong-phong", 1)
