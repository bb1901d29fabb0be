"""What staff do with agencies and policies (posts are in ``posts.py``).

Every change and its journal entry commit in one transaction.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import inputs, journal
from .errors import InputError, NotFound
from .models import Policy, utcnow
from .store import rows
from .store.engine import read, write
from .store.schema import agencies, policies

if TYPE_CHECKING:
    from .context import App

SYSTEM = "system"


def sync_agencies(app: App) -> None:
    """Register the agencies of config.toml (new ones, renamed ones).

    Two processes may open a new database at once (a daemon and a command):
    the loser of the race sees the winner's rows on its second try.
    """
    for last_try in (False, True):
        try:
            return _sync_agencies(app)
        except IntegrityError:
            if last_try:
                raise


def _sync_agencies(app: App) -> None:
    with read(app.engine) as conn:
        known = {r.code: r.name for r in conn.execute(select(agencies))}
    if all(known.get(a.code) == a.name for a in app.config.agencies.values()):
        return  # the common case: one read, no write lock
    with write(app.engine) as conn:
        known = {r.code: r.name for r in conn.execute(select(agencies))}  # again, under the write lock
        changed = [a for a in app.config.agencies.values() if known.get(a.code) != a.name]
        for agency in changed:
            event = "agency.renamed" if agency.code in known else "agency.registered"
            if agency.code in known:
                conn.execute(update(agencies).where(agencies.c.code == agency.code).values(name=agency.name))
            else:
                conn.execute(insert(agencies).values(code=agency.code, name=agency.name, created_at=utcnow()))
            journal.append(conn, SYSTEM, event, f"agency:{agency.code}", {"name": agency.name})


def default_agency(app: App, given: str | None, source: str) -> str:
    """The agency named, or the only one configured."""
    if given:
        if given not in app.config.agencies:
            raise InputError("input.unknown_agency", source=source, value=given,
                             choices=", ".join(sorted(app.config.agencies)))
        return given
    if len(app.config.agencies) == 1:
        return next(iter(app.config.agencies))
    raise InputError("input.agency_required", source=source, choices=", ".join(sorted(app.config.agencies)))


def parse_policy(app: App, data: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate a policy given as flags or a TOML file; returns column values."""
    inputs.check_keys(data, inputs.POLICY_KEYS, source)
    values = {
        "agency": default_agency(app, inputs.text(data, "agency", source, required=False), source),
        "code": inputs.text(data, "code", source),
        "title": inputs.title(data, "title", source),
        "summary": inputs.text(data, "summary", source),
        "impact": inputs.impact(data, source).value,
        "draft_url": inputs.url(data, "draft_url", source),
        "key_points": inputs.points(data, "key_points", source),
        "affected": inputs.text(data, "affected", source, required=False),
        "comment_how": inputs.text(data, "comment_how", source, required=False),
    }
    for key in ("consultation_opens", "consultation_closes", "passed_on", "issued_on"):
        values[key] = inputs.a_date(data, key, source)
    opens, closes = values["consultation_opens"], values["consultation_closes"]
    if opens and closes and closes < opens:
        raise InputError("input.dates_order", source=source, first="consultation_opens", second="consultation_closes")
    if values["passed_on"] and values["issued_on"] and values["issued_on"] < values["passed_on"]:
        raise InputError("input.dates_order", source=source, first="passed_on", second="issued_on")
    return values


def add_policy(app: App, actor: str, data: dict[str, Any], source: str = "--") -> Policy:
    values = parse_policy(app, data, source)
    try:
        with write(app.engine) as conn:
            row = insert(policies).values(**values, created_by=actor, created_at=utcnow())
            pid = conn.execute(row).inserted_primary_key[0]
            policy = rows.policy(conn.execute(select(policies).where(policies.c.id == pid)).one())
            journal.append(conn, actor, "policy.created", f"policy:{pid}", _policy_payload(policy))
    except IntegrityError:
        raise InputError("input.policy_exists", source=source, code=values["code"], agency=values["agency"]) from None
    return policy


def update_policy(app: App, actor: str, code: str, agency: str | None, data: dict[str, Any],
                  source: str = "--") -> tuple[Policy, dict[str, list[Any]]]:
    """Change some fields of a policy; returns it and ``{field: [old, new]}``."""
    current = get_policy(app, code, agency)
    fixed = {"code": current.code, "agency": current.agency}
    for key, value in fixed.items():
        if key in data and data[key] != value:
            raise InputError("input.immutable", source=source, field=key)
    before = {k: v for k, v in asdict(current).items() if k in inputs.POLICY_KEYS}
    before["key_points"] = list(current.key_points)
    values = parse_policy(app, {**before, **data, **fixed}, source)
    changes = {k: [before[k], v] for k, v in values.items() if before.get(k) != v}
    if not changes:
        return current, {}
    with write(app.engine) as conn:
        conn.execute(update(policies).where(policies.c.id == current.id)
                     .values(**{k: new for k, (_, new) in changes.items()}))
        journal.append(conn, actor, "policy.changed", f"policy:{current.id}", {"changes": changes})
        updated = rows.policy(conn.execute(select(policies).where(policies.c.id == current.id)).one())
    return updated, changes


def _policy_payload(policy: Policy) -> dict[str, Any]:
    return {k: v for k, v in asdict(policy).items() if k not in ("id", "created_at")}


def list_policies(app: App, agency: str | None = None) -> list[Policy]:
    query = select(policies).order_by(policies.c.agency, policies.c.code)
    if agency:
        query = query.where(policies.c.agency == agency)
    with read(app.engine) as conn:
        return [rows.policy(r) for r in conn.execute(query)]


def find_policy(conn: Connection, code: str, agency: str | None = None) -> Policy:
    """A policy by code (and agency when codes repeat across agencies)."""
    query = select(policies).where(policies.c.code == code)
    if agency:
        query = query.where(policies.c.agency == agency)
    found = [rows.policy(r) for r in conn.execute(query)]
    if not found:
        raise NotFound("policy.not_found", code=code)
    if len(found) > 1:
        raise InputError("input.policy_ambiguous", source="--policy", code=code,
                         agencies=", ".join(sorted(p.agency for p in found)))
    return found[0]


def get_policy(app: App, code: str, agency: str | None = None) -> Policy:
    with read(app.engine) as conn:
        return find_policy(conn, code, agency)


def load_input(path: Path) -> dict[str, Any]:
    return inputs.read_toml(path)
