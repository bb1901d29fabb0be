"""Who sees which policy, and the policies list's search.

Each user is kept to the agencies ``access.sees_agency`` lets them see:
another agency's policy is "not found", never "forbidden" (its id tells
nothing).  Search matches code and title in any case and normal form, and a
query typed without tone marks matches with or without them.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from starlette.exceptions import HTTPException

from .. import service
from ..access import User, sees_agency
from ..context import App
from ..models import Policy, nfc
from ..store import rows
from ..store.engine import read
from ..store.schema import policies
from .errors import Forbidden

#: Ids are 32-bit integers in both databases: a larger one names nothing (and must not reach PostgreSQL).
MAX_ID = 2**31 - 1


# --- who sees what -------------------------------------------------------------------------------

def visible(app: App, user: User) -> list[Policy]:
    """The policies *user* may see (an agency-bound account: its agency's only)."""
    return [p for p in service.list_policies(app, user.agency) if sees_agency(user, p.agency)]


def get_visible(app: App, user: User, pid: int) -> Policy:
    """Policy *pid*, or 404 when it does not exist or belongs to an agency *user* does not see."""
    found = None
    if 1 <= pid <= MAX_ID:
        with read(app.engine) as conn:
            row = conn.execute(select(policies).where(policies.c.id == pid)).first()
        found = rows.policy(row) if row else None
    if found is None or not sees_agency(user, found.agency):
        raise HTTPException(404)
    return found


def agency_for(app: App, user: User, given: str | None) -> str | None:
    """The agency a new policy is for: an agency-bound user's own (naming another is refused: 403)."""
    given = (given or "").strip() or None
    if user.agency is None:
        return given
    if given is not None and given != user.agency:
        raise Forbidden("role")
    return user.agency


def agency_choices(app: App, user: User) -> list[tuple[str, str]]:
    """(code, name) of the agencies *user* may create policies for."""
    return [(a.code, a.name) for a in app.config.agencies.values() if sees_agency(user, a.code)]


# --- search --------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return nfc(nfc(text).casefold())


def _bare(text: str) -> str:
    """Without tone marks and with đ as d: "Học phí" and "hoc phi" meet here."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search(found: list[Policy], query: str) -> list[Policy]:
    """Policies whose code or title contains *query* (NFC or not, any case; unaccented matches all)."""
    wanted = _fold(query.strip())
    if not wanted:
        return found
    loose = _bare(wanted) == wanted  # typed without marks: compare without marks

    def hit(policy: Policy) -> bool:
        texts = (policy.code, policy.title)
        if any(wanted in _fold(t) for t in texts):
            return True
        return loose and any(wanted in _bare(t) for t in texts)

    return [p for p in found if hit(p)]
