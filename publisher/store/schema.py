"""The schema (SQLAlchemy Core).  Change it only together with a migration."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)

from .types import JSONText, UTCDateTime

metadata = MetaData()

agencies = Table(
    "agencies", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

policies = Table(
    "policies", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(64), ForeignKey("agencies.code"), nullable=False),
    Column("code", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("impact", String(16), nullable=False),
    Column("consultation_opens", Date),
    Column("consultation_closes", Date),
    Column("passed_on", Date),
    Column("issued_on", Date),
    Column("draft_url", Text),
    Column("key_points", JSONText, nullable=False, server_default="[]"),
    Column("affected", Text),
    Column("comment_how", Text),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("agency", "code", name="uq_policies_agency_code"),
)

posts = Table(
    "posts", metadata,
    Column("id", Integer, primary_key=True),
    Column("policy_id", Integer, ForeignKey("policies.id"), nullable=False, index=True),
    Column("template", String(100), nullable=False),
    Column("variables", JSONText, nullable=False),
    Column("channels", JSONText, nullable=False),
    Column("media", JSONText, nullable=False),
    Column("infographics", JSONText, nullable=False, server_default="[]"),
    Column("moment", String(32)),  # campaign step (opens, reminder, passed, issued) or None
    Column("publish_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime),
    Column("state", String(16), nullable=False),
    Column("author", String(100), nullable=False),
    Column("approver", String(100)),
    Column("approved_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Integer, ForeignKey("posts.id"), nullable=False, index=True),
    Column("channel", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("media", JSONText, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("needs_reconcile", Boolean, nullable=False, default=False),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UTCDateTime),
    Column("first_attempt_at", UTCDateTime),
    Column("remote_id", Text),
    Column("permalink", Text),
    Column("published_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("post_id", "channel", name="uq_deliveries_post_channel"),
)
# Early claims, scheduled confirmations and leases: by state, then time.
Index("ix_deliveries_due", deliveries.c.state, deliveries.c.due_at)
# The claim query: due work of one channel, oldest first.  Partial (only queued
# and waiting rows) so a million published or future rows cost nothing, and on
# the very expression the claim orders by (store/deliveries.py READY).
_DUE_ONLY = deliveries.c.state.in_([literal_column("'queued'"), literal_column("'waiting'")])
Index("ix_deliveries_ready", deliveries.c.channel,
      func.coalesce(deliveries.c.next_attempt_at, deliveries.c.due_at), deliveries.c.id,
      sqlite_where=_DUE_ONLY, postgresql_where=_DUE_ONLY)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False, index=True),  # rate limits count the last hour
    Column("finished_at", UTCDateTime, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("error", Text),
    Column("remote_id", Text),
    Column("permalink", Text),
)

journal = Table(
    "journal", metadata,
    Column("seq", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("event", String(64), nullable=False),
    # indexed alone: SQLite orders equal subjects by rowid (= seq) anyway; a (subject, seq) index
    # would spare PostgreSQL sorting one subject's few entries but cost ~6 % of bulk enqueue speed
    Column("subject", String(100), nullable=False, index=True),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

daemons = Table(  # one row per daemon (worker id): `publisher status` tells the live from the silent
    "daemons", metadata,
    Column("worker", String(200), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime),  # None while it runs (or after it died without stopping)
    Column("version", String(64), nullable=False),
)

users = Table(  # accounts of the web UI (publisher/accounts.py); never deleted, so history keeps its names
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),  # canonical: NFC, case-folded
    Column("display_name", Text),  # the person's full name, e.g. "Trần Thị Bình"
    Column("role", String(16), nullable=False),
    Column("agency", String(64), ForeignKey("agencies.code")),  # None: every agency
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string; never the password
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("username", name="uq_users_username"),
)

api_tokens = Table(  # tokens of scripts calling the JSON API (publisher/tokens.py); only their sha256 is kept
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),  # acts as this account
    Column("label", Text),  # what the token is for, e.g. "báo cáo hằng đêm"
    Column("token_sha256", String(64), nullable=False),  # hex sha256 of the token; never the token itself
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),  # None: never expires
    Column("last_used_at", UTCDateTime),  # to the minute (updated at most once a minute)
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
)

web_sessions = Table(  # logged-in browser sessions (publisher/web/session_store.py): logout ends one for good
    "web_sessions", metadata,
    Column("sid_sha256", String(64), primary_key=True),  # hex sha256 of the cookie's session id, never the id
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),  # logout; None while the session may be used
)

channel_holds = Table(  # channels an admin put on hold (publisher/holds.py): the daemon publishes nothing there
    "channel_holds", metadata,
    Column("channel", String(100), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("since", UTCDateTime, nullable=False),
)

login_failures = Table(  # failed logins of the web UI (publisher/web/ratelimit.py), shared by every worker
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_sha256", String(64), nullable=False),  # sha256 of "user:NAME" or "addr:IP": neither is kept
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_login_failures_key_at", login_failures.c.key_sha256, login_failures.c.at)
