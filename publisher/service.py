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
    """Register the agencies of config.toml (new ones, renamed ones)."""
    with read(app.engine) as conn:
        known = {r.code: r.name for r in conn.execute(select(agencies))}
    changed = [a for a in app.config.agencies.values() if known.get(a.code) != a.name]
    if not changed:
        return
    with write(app.engine) as conn:
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
        "title": inputs.text(data, "title", source),
        "summary": inputs.text(data, "summary", source),
        "impact": inputs.impact(data, source).value,
        "draft_url": inputs.url(data, "draft_url", source),
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
