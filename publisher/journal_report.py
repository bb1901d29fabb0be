"""The journal's verification as auditors read it: anchors, the summary, what a break means.

``audit verify`` and the audit page re-compute the chain in one read
snapshot, optionally from an *anchor* (``SEQ:HASH``, a head written down
earlier); an anchor no longer there means what it covers was rewritten or
removed.  Messages are literal keys of the catalogue, in the caller's language.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import journal
from .config_checks import shown
from .errors import InputError, PublisherError
from .i18n import t
from .store.engine import read

if TYPE_CHECKING:
    from .context import App

_ANCHOR = re.compile(r"(?:(\d+):)?([0-9a-f]{64})")  # SEQ:HASH as `audit verify --anchor` prints it, or HASH


def verification(app: App, anchor: journal.Anchor | None = None) -> journal.Check:
    """Re-compute the journal's chain (from *anchor* on, if given) in one read snapshot; an anchor no
    longer there means what it covers was rewritten or removed: a FAILED error saying which."""
    with read(app.engine) as conn:
        start = None if anchor is None or anchor.hash == journal.GENESIS else _anchored(conn, anchor)
        return journal.check(conn, start)


def _anchored(conn: Any, anchor: journal.Anchor) -> journal.Entry:
    """The anchored entry, or the error saying whether it moved, changed or is gone."""
    found = journal.find(conn, hash=anchor.hash)
    if found is not None and anchor.seq in (None, found.seq):
        return found
    if found is not None:
        raise PublisherError("audit.anchor_moved", seq=anchor.seq, now=found.seq)
    if anchor.seq is None:
        raise PublisherError("audit.anchor_unknown", hash=anchor.hash)
    now = journal.find(conn, seq=anchor.seq)
    if now is None:
        raise PublisherError("audit.anchor_removed", seq=anchor.seq)
    raise PublisherError("audit.anchor_altered", seq=anchor.seq, hash=anchor.hash, now=now.hash)


def parse_anchor(text: str) -> journal.Anchor:
    """``SEQ:HASH`` or ``HASH`` (case and spaces forgiven: an anchor may be typed from paper)."""
    found = _ANCHOR.fullmatch(text.strip().lower())
    if found is None:
        raise InputError("audit.bad_anchor", value=shown(text))
    return journal.Anchor(found[2], int(found[1]) if found[1] else None)


def anchor(head: journal.Anchor) -> dict[str, Any]:
    return {"seq": head.seq, "at": head.at, "hash": head.hash, "anchor": f"{head.seq}:{head.hash}"}


def summary(result: journal.Check, anchored: bool = False) -> dict[str, Any]:
    """The verification as JSON data, with its message for people."""
    b, head = result.broken, result.head
    message = (f"{t('audit.broken', seq=b.seq, count=result.checked)}. {explain(b)}" if b else
               t("audit.ok_since", seq=result.first, count=result.checked, last=head.seq, head=head.hash)
               if anchored else t("audit.ok", count=result.checked, head=head.hash))
    return {"ok": b is None, "checked": result.checked, "from_seq": result.first, "head": None if b else anchor(head),
            "broken": b and {"seq": b.seq, "reason": b.reason, "entry": b.entry, "other": b.other},
            "message": message}


def explain(b: journal.Break) -> str:
    """What the evidence says happened (literal keys, so the catalogue check sees each one)."""
    if b.reason == "deleted" and b.entry == b.other:
        return t("audit.why_deleted_one", entry=b.entry)
    e, o = b.entry, b.other
    return {"edited": t("audit.why_edited", entry=e), "deleted": t("audit.why_deleted", entry=e, other=o),
            "inserted": t("audit.why_inserted", entry=e), "moved": t("audit.why_moved", entry=e, other=o),
            "renumbered": t("audit.why_renumbered", entry=e),
            "unlinked": t("audit.why_unlinked", entry=e, other=o)}[b.reason]
