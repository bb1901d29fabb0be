"""Accounts of the people who use publisher (the web UI's logins).

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106) and
never stored, logged, journalled or shown; the hash stays in this module too:
a :class:`User` has no field for it, so printing or serialising a user cannot
leak it.  The rules (the User record, names, password policy, roles,
:func:`can`) live in ``access.py`` and are re-exported here, as are the
changes an admin makes to an existing account (role, agency, full name,
disabled; with their guard rails), which live in ``account_changes.py``.
Every change and its journal entry commit in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select
from sqlalchemy import update as sql_update
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
from .account_changes import KEEP, disable, enable, set_role, update, user_from_row
from .account_changes import find as _find
from .errors import InputError
from .models import nfc, utcnow
from .store.engine import read, write
from .store.schema import users

if TYPE_CHECKING:
    from .context import App

__all__ = ["ACTIONS", "KEEP", "ROLES", "Role", "User", "add_user", "authenticate", "can", "canonical",
           "check_password", "disable", "enable", "get_user", "list_users", "sees_agency", "set_password",
           "set_role", "update", "user_from_row", "validate"]

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
        conn.execute(sql_update(users).where(users.c.username == name)
                     .values(password_hash=digest, password_changed_at=utcnow()))
        journal.append(conn, actor, "user.password_changed", f"user:{name}")
    return get_user(app, name)


def get_user(app: App, username: str) -> User:
    """The account named (any case or Unicode form); NotFound otherwise."""
    with read(app.engine) as conn:
        return _find(conn, canonical(username))


def list_users(app: App) -> list[User]:
    """Every account, disabled ones too, by username."""
    with read(app.engine) as conn:
        return [user_from_row(r) for r in conn.execute(select(users).order_by(users.c.username))]


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
    return user_from_row(row)


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
        conn.execute(sql_update(users).where(users.c.username == username, users.c.password_hash == old)
                     .values(password_hash=digest))


@cache
def _dummy_hash() -> str:
    """A hash with the real parameters, so verifying against it costs what a real login costs."""
    return _hasher.hash("publisher: no such account")
