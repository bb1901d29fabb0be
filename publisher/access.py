"""The rules of accounts, with no storage: names, passwords, roles, permissions.

Usernames are compared in one canonical form (NFC, case-folded): "Trần.An"
and "trần.an" typed with combining marks are one account.  Passwords are
NFC-normalised before hashing, so the same password typed on a keyboard that
sends combining marks still matches.

The web layer asks :func:`can` before every operation and :func:`sees_agency`
before showing an agency's data; both refuse everything to a disabled
account.  The table is small and explicit on purpose: an auditor reading the
code can check it line by line against the rules (editors write, approvers
approve, auditors only read, admins do everything).  An approver still
cannot approve their own post: ``posts.approve`` enforces that, whatever the
role says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import InputError
from .models import nfc

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is an attack, not a login
MAX_DISPLAY_NAME = 200
_USERNAME = re.compile(r"[^\W_][\w.-]{1,63}")  # letters (Vietnamese too), digits, . - _; fits String(64)


class Role(StrEnum):
    EDITOR = "editor"  # cán bộ truyền thông: policies and posts
    APPROVER = "approver"  # người duyệt: signs posts off
    AUDITOR = "auditor"  # kiểm tra: reads everything, changes nothing
    ADMIN = "admin"  # quản trị: everything, including accounts and channels


ROLES = tuple(r.value for r in Role)


@dataclass(frozen=True)
class User:
    """An account as the rest of publisher sees it: everything but the password hash."""

    id: int
    username: str
    display_name: str | None
    role: Role
    agency: str | None  # None: every agency
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None


_EVERYONE = frozenset(Role)
_STAFF = frozenset({Role.EDITOR, Role.APPROVER})

# action -> the roles allowed besides admin
_ALLOWED: dict[str, frozenset[Role]] = {
    "post.read": _EVERYONE,
    "policy.write": frozenset({Role.EDITOR}),
    "post.write": frozenset({Role.EDITOR}),
    "post.approve": frozenset({Role.APPROVER}),
    "delivery.manage": _STAFF,  # retry a failed delivery, cancel a queued one
    "journal.read": _EVERYONE,
    "report.read": _EVERYONE,
    "channels.manage": frozenset(),
    "users.manage": frozenset(),
}
#: action -> the roles allowed; an admin may do everything.
ACTIONS: dict[str, frozenset[Role]] = {action: roles | {Role.ADMIN} for action, roles in _ALLOWED.items()}


def can(user: User, action: str) -> bool:
    """May *user* do *action*?  An unknown action is a bug in the caller, not a "no"."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; declared: {', '.join(sorted(ACTIONS))}")
    return user.disabled_at is None and user.role in ACTIONS[action]


def sees_agency(user: User, agency: str) -> bool:
    """May *user* see *agency*'s data?  An account without an agency serves all of them."""
    return user.disabled_at is None and (user.agency is None or user.agency == agency)


def canonical(username: str) -> str:
    """The one form a username is stored and looked up in (NFC again after case-folding, which may decompose)."""
    return nfc(nfc(username.strip()).casefold())


def check_username(username: str) -> str:
    """The canonical username, or an InputError naming the field."""
    name = canonical(username)
    if not _USERNAME.fullmatch(name):
        raise InputError("user.bad_username", value=username)
    return name


def check_display_name(display_name: str | None) -> str | None:
    """The full name as shown (NFC, trimmed), None when blank."""
    shown = nfc(display_name or "").strip()
    if len(shown) > MAX_DISPLAY_NAME or not shown.isprintable():
        raise InputError("user.bad_display_name", value=shown[:40])
    return shown or None


def check_password(username: str, password: str) -> str:
    """The minimum policy; returns the password in the form it is hashed and verified (NFC)."""
    typed = nfc(password)
    if len(typed) < MIN_PASSWORD:
        raise InputError("user.password_short", minimum=MIN_PASSWORD)
    if len(typed) > MAX_PASSWORD:
        raise InputError("user.password_long", maximum=MAX_PASSWORD)
    if canonical(typed) == canonical(username):
        raise InputError("user.password_is_username")
    return typed
