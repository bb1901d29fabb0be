"""Multi-row inserts at driver speed, for the queue's and the journal's bulk paths.

SQLAlchemy's ``execute(insert(t), rows)`` builds and type-converts a
parameter set per row in Python, which costs more than the database's own
work at a million rows.  :func:`insert_rows` compiles the statement once,
converts each value with the column's own type (the very conversion
SQLAlchemy applies, so rows read back identically), once per distinct value
(a batch repeats its timestamps and media lists), and hands the rows to the
driver: one ``executemany`` per batch on SQLite, ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.types import TypeEngine

BATCH = 5000  # rows per executemany call (SQLite)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert *rows* (dicts with the same keys, Python values) into *table*, in the caller's transaction."""
    if not rows:
        return
    keys = list(rows[0])
    if conn.dialect.name == "postgresql":
        _copy(conn, table, keys, _converted(conn, table, keys, rows))
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    order = list(compiled.positiontup or keys)  # qmark parameters, in the compiled statement's order
    chunk: list[tuple[Any, ...]] = []
    for values in _converted(conn, table, order, rows):
        chunk.append(values)
        if len(chunk) == BATCH:
            conn.exec_driver_sql(compiled.string, chunk)
            chunk = []
    if chunk:
        conn.exec_driver_sql(compiled.string, chunk)


def _converted(conn: Connection, table: Table, order: list[str],
               rows: Sequence[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    """Each row's values in *order*, converted as SQLAlchemy would bind them."""
    converters = [(i, _memo(p)) for i, k in enumerate(order) if (p := _processor(table.c[k].type, conn.dialect))]
    for row in rows:
        values = [row[k] for k in order]
        for i, convert in converters:
            values[i] = convert(values[i])
        yield tuple(values)


def _copy(conn: Connection, table: Table, columns: list[str], values: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL's COPY, on the transaction's own connection: several times faster than executemany."""
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    # The dialect's own implementation: a TypeDecorator's plain bind_processor
    # skips it, and SQLite's driver would then write '10:00:00' where
    # SQLAlchemy writes '10:00:00.000000' -- and times are compared as text.
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """*process* remembered per value object.

    Keyed by identity, which is cheaper than hashing a datetime and works for
    JSON lists: a batch's rows share their timestamps and media lists.  Safe
    because every value stays referenced by *rows* while the call lasts, so
    no id is reused for another object meanwhile.
    """
    seen: dict[int, Any] = {}

    def convert(value: Any) -> Any:
        key = id(value)
        if key not in seen:
            seen[key] = process(value)
        return seen[key]

    return convert
