"""Changes an admin makes to an existing account: role, agency, full name, disabled or not.

The guard rails people expect, enforced here for every face (web, API, CLI):
nobody disables their own account or takes away their own admin role, and
the last active admin can never be disabled or demoted, so there is always
someone left who can manage accounts.  Each change takes the journal's lock
first (SQLite's write lock, PostgreSQL's advisory lock), so two admins
demoting each other at the same moment cannot both succeed, and commits with
its journal entry in one transaction.  ``accounts`` re-exports everything
public here; passwords stay in ``accounts``.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, func, select
from sqlalchemy import update as sql_update

from . import journal
from .access import ROLES, Role, User, canonical, check_display_name
from .errors import InputError, NotFound, StateError
from .models import utcnow
from .store.engine import write
from .store.schema import users

if TYPE_CHECKING:
    from .context import App


class _Keep(Enum):
    KEEP = "keep"


#: "Leave this field as it is" (None already means something: no agency, no full name).
KEEP = _Keep.KEEP
Keep = Literal[_Keep.KEEP]


def user_from_row(row: Any) -> User:
    """The :class:`User` of a ``users`` row (a joined row too: only the users columns are read)."""
    return User(id=row.id, username=row.username, display_name=row.display_name, role=Role(row.role),
                agency=row.agency, created_at=row.created_at, password_changed_at=row.password_changed_at,
                disabled_at=row.disabled_at)


def find(conn: Connection, name: str) -> User:
    """The account stored under the canonical *name*; NotFound otherwise."""
    row = conn.execute(select(users).where(users.c.username == name)).first()
    if row is None:
        raise NotFound("user.not_found", username=name)
    return user_from_row(row)


def update(app: App, actor: str, username: str, *, role: str | None = None, agency: str | None | Keep = KEEP,
           display_name: str | None | Keep = KEEP) -> User:
    """Change an account's role (None: keep), agency (None: every agency) or full name; journalled once.

    Fields given with their current value change nothing, and a call that changes nothing writes nothing.
    """
    wanted = _checked(app, role, agency, display_name)
    name = canonical(username)
    with write(app.engine) as conn:
        journal.lock(conn)
        current = find(conn, name)
        changed = {key: value for key, value in wanted.items() if getattr(current, key) != value}
        if not changed:
            return current
        if current.role is Role.ADMIN and changed.get("role", Role.ADMIN) != Role.ADMIN:
            _guard(conn, actor, current, disabling=False)
        conn.execute(sql_update(users).where(users.c.username == name)
                     .values(**{key: _plain(value) for key, value in changed.items()}))
        journal.append(conn, actor, "user.updated", f"user:{name}",
                       {key: {"from": _plain(getattr(current, key)), "to": _plain(value)}
                        for key, value in changed.items()})
        return find(conn, name)


def set_role(app: App, actor: str, username: str, role: str, agency: str | None | Keep = KEEP) -> User:
    """Give an account *role*, and *agency* if given (None: every agency); see :func:`update`."""
    return update(app, actor, username, role=role, agency=agency)


def disable(app: App, actor: str, username: str) -> User:
    """Stop an account from logging in; it stays, with its history, and can be enabled again."""
    return _set_disabled(app, actor, username, disabled=True)


def enable(app: App, actor: str, username: str) -> User:
    """Let a disabled account log in again (with the password it had)."""
    return _set_disabled(app, actor, username, disabled=False)


def _set_disabled(app: App, actor: str, username: str, *, disabled: bool) -> User:
    name = canonical(username)
    with write(app.engine) as conn:
        journal.lock(conn)
        current = find(conn, name)
        if disabled and current.disabled_at is not None:
            raise StateError("user.already_disabled", username=name)
        if not disabled and current.disabled_at is None:
            raise StateError("user.already_enabled", username=name)
        if disabled:
            _guard(conn, actor, current, disabling=True)
        conn.execute(sql_update(users).where(users.c.username == name)
                     .values(disabled_at=utcnow() if disabled else None))
        journal.append(conn, actor, "user.disabled" if disabled else "user.enabled", f"user:{name}")
        return find(conn, name)


def _checked(app: App, role: str | None, agency: str | None | Keep,
             display_name: str | None | Keep) -> dict[str, Any]:
    """The fields to set, checked as for a new account (``accounts.validate``)."""
    wanted: dict[str, Any] = {}
    if role is not None:
        given = role.strip().lower()
        if given not in ROLES:
            raise InputError("user.bad_role", value=role, choices=", ".join(ROLES))
        wanted["role"] = Role(given)
    if agency is not KEEP:
        if agency is not None and agency not in app.config.agencies:
            raise InputError("user.unknown_agency", value=agency, choices=", ".join(sorted(app.config.agencies)))
        wanted["agency"] = agency
    if display_name is not KEEP:
        wanted["display_name"] = check_display_name(display_name)
    return wanted


def _guard(conn: Connection, actor: str, target: User, *, disabling: bool) -> None:
    """Refuse disabling (or demoting) *target* when it is the actor, or the last active admin."""
    if canonical(actor) == target.username and disabling:
        raise StateError("user.self_disable", username=target.username)
    if canonical(actor) == target.username:
        raise StateError("user.self_demote", username=target.username)
    if target.role is Role.ADMIN and target.disabled_at is None and _active_admins(conn) <= 1:
        raise StateError("user.last_admin", username=target.username)


def _active_admins(conn: Connection) -> int:
    query = select(func.count()).select_from(users).where(users.c.role == Role.ADMIN.value,
                                                           users.c.disabled_at.is_(None))
    return int(conn.execute(query).scalar_one())


def _plain(value: object) -> object:
    """A journal payload value: a role as its name."""
    return value.value if isinstance(value, Role) else value
