"""The bulk queue path and the claim index, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, text

from publisher import enqueue, journal, posts
from publisher.models import utcnow
from publisher.store import bulk
from publisher.store import deliveries as store
from publisher.store.engine import read, write
from publisher.store.schema import deliveries
from publisher.store.schema import journal as t_journal

from .helpers import add_policy, approved_post


def _raw(conn, ids):
    """Rows as the database holds them (no SQLAlchemy type processing), without id and channel."""
    found = conn.exec_driver_sql(f"SELECT * FROM deliveries WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id")
    names = list(found.keys())
    return [{k: v for k, v in zip(names, row, strict=True) if k not in ("id", "channel")} for row in found]


def test_bulk_rows_are_stored_byte_for_byte_as_sqlalchemy_stores_them(app):
    add_policy(app)
    [did] = approved_post(app, channels=("portal",))
    whole = (utcnow() + timedelta(days=2)).replace(microsecond=0)  # SQLite's driver would drop ".000000"
    with write(app.engine) as conn:
        row = dict(conn.execute(select(deliveries).where(deliveries.c.id == did)).one()._mapping)
        row.update(due_at=whole, title="Lấy ý kiến Nhân dân về dự thảo", needs_reconcile=False)
        conn.execute(insert(deliveries), [{**row, "id": did + 1, "channel": "a"}])
        bulk.insert_rows(conn, deliveries, [{**row, "id": did + 2, "channel": "b"}])
    with read(app.engine) as conn:
        core, ours = _raw(conn, [did + 1, did + 2])
        assert ours == core
        got = store.get(conn, did + 2)
    assert got.due_at == whole and got.content.title == "Lấy ý kiến Nhân dân về dự thảo"


def _items(app, channels):
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh", "channels": ["portal"]})
    posts.approve(app, "truong-phong", post.id)
    content = posts.frozen(app, post.id)["portal"]
    return [enqueue.Item(post, "12/2026/NQ-HĐND", c, content) for c in channels]


def test_enqueue_returns_ids_in_order_and_journals_every_delivery_in_one_chain(app):
    add_policy(app)
    items = _items(app, ["kenh-1", "kenh-2", "kenh-3"])
    with write(app.engine) as conn:
        ids = enqueue.enqueue(conn, "lap-ke-hoach", items, utcnow())
    later = approved_post(app)  # the ordinary path afterwards: no id collides (PostgreSQL's sequence moved on)
    assert len(set(ids + later)) == 5 and ids == sorted(ids)
    with read(app.engine) as conn:
        channels = [store.get(conn, i).channel for i in ids]
        events = conn.execute(select(t_journal.c.event, t_journal.c.subject, t_journal.c.actor)
                              .where(t_journal.c.actor == "lap-ke-hoach").order_by(t_journal.c.seq)).all()
        assert journal.verify(conn)[1] is None
    assert channels == ["kenh-1", "kenh-2", "kenh-3"]
    assert [(e.event, e.subject) for e in events] == [("delivery.queued", f"delivery:{i}") for i in ids]


def test_enqueue_of_nothing_writes_nothing(app):
    with write(app.engine) as conn:
        before = journal.head(conn)
        assert enqueue.enqueue(conn, "x", [], utcnow()) == []
        assert journal.head(conn) == before
        assert conn.execute(select(deliveries.c.id)).first() is None


def _plan(conn, query) -> str:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index CAN serve
    return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))


def test_the_claim_and_wakeup_queries_read_the_partial_ready_index(app):
    add_policy(app)
    approved_post(app)
    with read(app.engine) as conn:
        claim = _plan(conn, store.claim_query(utcnow(), 5, ["fanpage"]))
        wake = _plan(conn, select(store.READY).where(store.IS_DUE_STATE, deliveries.c.channel == "fanpage")
                     .order_by(store.READY).limit(1))
    for plan in (claim, wake):
        assert "ix_deliveries_ready" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # index order, no sort of the queue


def test_the_partial_index_exists_with_its_predicate(app):
    with read(app.engine) as conn:
        if conn.dialect.name == "sqlite":
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_deliveries_ready'")).scalar()
        else:
            ddl = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_deliveries_ready'")).scalar()
    assert ddl and "coalesce" in ddl.lower() and "queued" in ddl and "waiting" in ddl
