"""The accounts pages' parts that are not routes: the forms, the API's models, errors at their field.

No rule of what an account is lives here: names, roles, agencies and
passwords are checked by ``accounts`` and ``access`` exactly as for the CLI,
and the guard rails (nobody disables or demotes themselves, the last active
admin stays) by ``account_changes``.  This module turns a form or a JSON body
into those calls' arguments, and a refusal back into the field it is about.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException
from pydantic import BaseModel, Field

from .. import accounts, tokens
from ..access import Role, User, check_password, check_username
from ..context import App
from ..errors import InputError, NotFound, PublisherError
from .language import Speaker

#: The form field each refusal is about; the others belong to the form's own main field.
FIELD_OF = {
    "user.bad_username": "username", "user.exists": "username", "user.bad_role": "role",
    "user.self_demote": "role", "user.unknown_agency": "agency", "user.bad_display_name": "display_name",
    "user.password_short": "password", "user.password_long": "password", "user.password_is_username": "password",
    "web.users.password_mismatch": "password2", "token.bad_label": "label", "token.bad_days": "days",
    "token.user_disabled": "tokens",
}


def error_field(exc: PublisherError, default: str) -> str:
    """The field of the form *exc* is about (*default*: the form's main field, e.g. the last-admin refusal)."""
    return FIELD_OF.get(exc.key, default)


def account(app: App, username: str) -> User:
    """The account named in a URL; a 404 for a name that cannot exist (it never reaches the database)."""
    try:
        return accounts.get_user(app, check_username(username))
    except (InputError, NotFound):
        raise HTTPException(404) from None


def agency_choice(value: str) -> str | None:
    """A form's agency: blank is every agency."""
    return value.strip() or None


def typed_twice(username: str, first: str, second: str) -> str:
    """A new password typed twice on a form: the CLI's rules first (``access.check_password``), then the same twice."""
    check_password(username, first)
    if first != second:
        raise InputError("web.users.password_mismatch")
    return first


def role_name(words: Speaker, role: Role) -> str:
    """The role in words, as staff call it."""
    names = {Role.EDITOR: words.t("web.role.editor"), Role.APPROVER: words.t("web.role.approver"),
             Role.AUDITOR: words.t("web.role.auditor"), Role.ADMIN: words.t("web.role.admin")}
    return names[role]


def token_state(words: Speaker, token: tokens.Token) -> str:
    """active, expired or revoked, in words."""
    names = {"active": words.t("token.state_active"), "expired": words.t("token.state_expired"),
             "revoked": words.t("token.state_revoked")}
    return names[token.state()]


def agency_name(app: App, code: str | None, words: Speaker) -> str:
    """The agency's name, or "every agency" for an account without one."""
    if code is None:
        return words.t("web.users.all_agencies")
    found = app.config.agencies.get(code)
    return found.name if found else code


# --- the pages' forms ------------------------------------------------------------------------------

class NewForm(BaseModel):
    """The add form, as typed (csrf_token is checked app-wide)."""

    username: str = ""
    display_name: str = ""
    role: str = ""
    agency: str = ""
    password: str = ""
    password2: str = ""


class ProfileForm(BaseModel):
    display_name: str = ""
    role: str = ""
    agency: str = ""


class PasswordForm(BaseModel):
    password: str = ""
    password2: str = ""


class TokenForm(BaseModel):
    label: str = ""
    days: str = ""


def days_of(text: str) -> int | None:
    """A token's validity as typed: blank is the default; anything but a number is refused at the field."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InputError("token.bad_days", value=text[:12], maximum=tokens.MAX_DAYS)
    return int(text)


# --- the API's models ------------------------------------------------------------------------------

class UserOut(BaseModel):
    """An account (never its password or hash: the record has no field for them)."""

    id: int
    username: str
    display_name: str | None
    role: str = Field(description="editor, approver, auditor or admin")
    role_name: str = Field(description="The role in the caller's language.")
    agency: str | None = Field(description="The agency this account serves; null: every agency.")
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None = Field(description="Set while the account is disabled.")

    @classmethod
    def of(cls, user: User, words: Speaker) -> UserOut:
        return cls(id=user.id, username=user.username, display_name=user.display_name, role=user.role.value,
                   role_name=role_name(words, user.role), agency=user.agency, created_at=user.created_at,
                   password_changed_at=user.password_changed_at, disabled_at=user.disabled_at)


class UserNew(BaseModel):
    """A new account; the password is checked as the CLI checks it, and never sent back."""

    username: str = Field(description="2-64 letters, digits, dots, hyphens or underscores.")
    role: str = Field(description="editor, approver, auditor or admin")
    agency: str | None = Field(None, description="An agency code; null or absent: every agency.")
    display_name: str | None = Field(None, description="The person's full name.")
    password: str = Field(description="At least 10 characters, not the username.")


class UserEdit(BaseModel):
    """What a change may give; a field left out keeps its value (agency null: every agency)."""

    role: str | None = Field(None, description="editor, approver, auditor or admin")
    agency: str | None = Field(None, description="An agency code; null: every agency.")
    display_name: str | None = Field(None, description="The person's full name; null or blank clears it.")


class NewPassword(BaseModel):
    password: str = Field(description="At least 10 characters, not the username.")


class TokenOut(BaseModel):
    """An API token as listed: never the token itself (only its sha256 is stored)."""

    id: int
    username: str
    label: str | None
    state: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: tokens.Token) -> TokenOut:
        return cls(id=token.id, username=token.username, label=token.label, state=token.state(),
                   created_at=token.created_at, expires_at=token.expires_at, last_used_at=token.last_used_at,
                   revoked_at=token.revoked_at)
