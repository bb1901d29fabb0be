"""Accounts of the people who use publisher (the web UI's logins).

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106) and
never stored, logged, journalled or shown; the hash stays in this module too:
a :class:`User` has no field for it, so printing or serialising a user cannot
leak it.  The rules (the User record, names, password policy, roles,
:func:`can`) live in ``access.py`` and are re-exported here.  Every change
and its journal entry commit in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import journal
from .access import (
    ACTIONS,
    MAX_PASSWORD,
    ROLES,
    Role,
    User,
    can,
    canonical,
    check_display_name,
    check_password,
    check_username,
    sees_agency,
)
from .errors import InputError, NotFound, StateError
from .models import nfc, utcnow
from .store.engine import read, write
from .store.schema import users

if TYPE_CHECKING:
    from .context import App

__all__ = ["ACTIONS", "ROLES", "Role", "User", "add_user", "authenticate", "can", "canonical", "check_password",
           "disable", "enable", "get_user", "list_users", "sees_agency", "set_password", "validate"]

_hasher = PasswordHasher()


@dataclass(frozen=True)
class NewUser:
    """The checked, normalised values of an account about to be created."""

    username: str
    role: Role
    agency: str | None
    display_name: str | None


def validate(app: App, username: str, role: str, agency: str | None = None,
             display_name: str | None = None) -> NewUser:
    """Check a new account's fields (not its password: ask for one only after this passed)."""
    role = role.strip().lower()
    if role not in ROLES:
        raise InputError("user.bad_role", value=role, choices=", ".join(ROLES))
    if agency is not None and agency not in app.config.agencies:
        raise InputError("user.unknown_agency", value=agency, choices=", ".join(sorted(app.config.agencies)))
    shown, name = check_display_name(display_name), check_username(username)
    with read(app.engine) as conn:
        if conn.execute(select(users.c.id).where(users.c.username == name)).first():
            raise InputError("user.exists", username=name)
    return NewUser(name, Role(role), agency, shown)


def add_user(app: App, actor: str, username: str, role: str, password: str, *, agency: str | None = None,
             display_name: str | None = None) -> User:
    """Create an account; the username must be new (case and Unicode form aside)."""
    new = validate(app, username, role, agency, display_name)
    digest = _hasher.hash(check_password(new.username, password))  # slow on purpose: outside the write lock
    try:
        with write(app.engine) as conn:
            _insert(conn, actor, new, digest)
    except IntegrityError:  # created by someone else between our check and our insert
        raise InputError("user.exists", username=new.username) from None
    return get_user(app, new.username)


def _insert(conn: Connection, actor: str, new: NewUser, digest: str) -> None:
    if conn.execute(select(users.c.id).where(users.c.username == new.username)).first():
        raise InputError("user.exists", username=new.username)
    now = utcnow()
    conn.execute(insert(users).values(username=new.username, display_name=new.display_name, role=new.role.value,
                                      agency=new.agency, password_hash=digest, created_at=now,
                                      password_changed_at=now))
    journal.append(conn, actor, "user.created", f"user:{new.username}",  # no secret, not even the hash
                   {"role": new.role.value, "agency": new.agency, "display_name": new.display_name})


def set_password(app: App, actor: str, username: str, password: str) -> User:
    """Replace a user's password (a disabled account too: an admin resets it before enabling)."""
    name = get_user(app, username).username
    digest = _hasher.hash(check_password(name, password))
    with write(app.engine) as conn:
        conn.execute(update(users).where(users.c.username == name)
                     .values(password_hash=digest, password_changed_at=utcnow()))
        journal.append(conn, actor, "user.password_changed", f"user:{name}")
    return get_user(app, name)


def disable(app: App, actor: str, username: str) -> User:
    """Stop an account from logging in; it stays, with its history, and can be enabled again."""
    return _set_disabled(app, actor, username, disabled=True)


def enable(app: App, actor: str, username: str) -> User:
    """Let a disabled account log in again (with the password it had)."""
    return _set_disabled(app, actor, username, disabled=False)


def _set_disabled(app: App, actor: str, username: str, *, disabled: bool) -> User:
    name = canonical(username)
    with write(app.engine) as conn:
        current = _find(conn, name)
        if disabled and current.disabled_at is not None:
            raise StateError("user.already_disabled", username=name)
        if not disabled and current.disabled_at is None:
            raise StateError("user.already_enabled", username=name)
        conn.execute(update(users).where(users.c.username == name)
                     .values(disabled_at=utcnow() if disabled else None))
        journal.append(conn, actor, "user.disabled" if disabled else "user.enabled", f"user:{name}")
        return _find(conn, name)


def get_user(app: App, username: str) -> User:
    """The account named (any case or Unicode form); NotFound otherwise."""
    with read(app.engine) as conn:
        return _find(conn, canonical(username))


def list_users(app: App) -> list[User]:
    """Every account, disabled ones too, by username."""
    with read(app.engine) as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def authenticate(app: App, username: str, password: str) -> User | None:
    """The active user with this password, or None.

    An unknown or disabled account still costs one argon2 verification (of a
    dummy hash), so response times do not tell which usernames exist.
    """
    with read(app.engine) as conn:
        row = conn.execute(select(users).where(users.c.username == canonical(username))).first()
    if row is None or row.disabled_at is not None or len(password) > MAX_PASSWORD:
        _verify(_dummy_hash(), password[:MAX_PASSWORD])
        return None
    if not _verify(row.password_hash, password):
        return None
    if _hasher.check_needs_rehash(row.password_hash):  # parameters raised since it was hashed
        _rehash(app, row.username, row.password_hash, password)
    return _user(row)


def _verify(digest: str, password: str) -> bool:
    """Does *password* match *digest*?  A corrupt stored hash is a failed login, not a crash."""
    try:
        return _hasher.verify(digest, nfc(password))
    except (VerificationError, InvalidHashError):
        return False


def _rehash(app: App, username: str, old: str, password: str) -> None:
    """Store a hash with today's parameters, unless the password changed meanwhile."""
    digest = _hasher.hash(nfc(password))
    with write(app.engine) as conn:
        conn.execute(update(users).where(users.c.username == username, users.c.password_hash == old)
                     .values(password_hash=digest))


@cache
def _dummy_hash() -> str:
    """A hash with the real parameters, so verifying against it costs what a real login costs."""
    return _hasher.hash("publisher: no such account")


def _find(conn: Connection, name: str) -> User:
    row = conn.execute(select(users).where(users.c.username == name)).first()
    if row is None:
        raise NotFound("user.not_found", username=name)
    return _user(row)


def _user(row: Any) -> User:
    return User(id=row.id, username=row.username, display_name=row.display_name, role=Role(row.role),
                agency=row.agency, created_at=row.created_at, password_changed_at=row.password_changed_at,
                disabled_at=row.disabled_at)
