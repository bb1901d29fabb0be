"""Every configuration key, declared once with its type, default and help.

``config.py`` validates against these; ``tests/test_docs.py`` checks that the
README documents each of them.  Channel-type options are declared by each
channel class (``Channel.options``) and checked by the same code.
"""

from __future__ import annotations

from .models import Setting

SECTIONS: dict[str, tuple[Setting, ...]] = {
    "storage": (
        Setting("data_dir", str, "queue", "Data folder: SQLite database, frozen media, outbox (relative to the config file)."),
        Setting("database_url", str, "", "SQLAlchemy URL; empty means SQLite at <data_dir>/publisher.db. Must not contain a password."),
        Setting("database_url_env", str, "", "Name of an environment variable holding the database URL (use this when it has a password)."),
        Setting("busy_timeout_ms", int, 10000, "SQLite: how long a writer waits for a lock before giving up.", minimum=0),
    ),
    "display": (
        Setting("timezone", str, "Asia/Ho_Chi_Minh", "Zone in which times are shown and typed; storage is always UTC."),
        Setting("language", str, "vi", "Language of messages: vi or en.", choices=("vi", "en")),
    ),
    "daemon": (
        Setting("worker_id", str, "", "Name of this daemon in the attempt log; empty means host:pid."),
        Setting("poll_seconds", float, 30.0, "How often the daemon looks for work queued by other processes.", minimum=0.05),
        Setting("lease_seconds", float, 300.0, "How long a claimed delivery belongs to one worker before it is recovered.", minimum=1),
        Setting("batch_size", int, 20, "Deliveries claimed per transaction (shared by a channel's consumers).", minimum=1),
        Setting("threads", int, 8, "Publishing threads per process, shared by all channels.", minimum=1),
        Setting("check_minutes", float, 60.0, "How often the daemon checks every channel (token, Page); failures are journalled.", minimum=0.1),
        Setting("grace_seconds", float, 30.0, "On SIGTERM, how long in-flight attempts may take to finish.", minimum=0),
        Setting("heartbeat_seconds", float, 15.0, "How often the daemon records that it is alive (publisher status: silent after 3 missed beats).", minimum=0.05),
        Setting("log_format", str, "text", "Log lines on stderr: text, or json (one object per line, for journald/log shippers).", choices=("text", "json")),
    ),
    "retry": (
        Setting("max_attempts", int, 8, "Attempts before a delivery is failed.", minimum=1),
        Setting("base_seconds", float, 30.0, "First back-off delay; doubles each attempt (with jitter).", minimum=0),
        Setting("max_seconds", float, 3600.0, "Longest back-off delay.", minimum=0),
        Setting("inline_attempts", int, 3, "Quick retries of a transient fault inside one attempt.", minimum=1),
        Setting("inline_wait_seconds", float, 1.0, "First wait between quick retries.", minimum=0),
        Setting("reconcile_delay_seconds", float, 5.0, "Wait before looking again for a post after an ambiguous failure.", minimum=0),
        Setting("auth_wait_seconds", float, 900.0, "When a token is refused, wait this long before trying again (staff renew it meanwhile).", minimum=0),
    ),
    "campaign": (
        Setting("reminder_days", int, 3, "The reminder goes out this many days before consultation closes.", minimum=1),
        Setting("publish_time", str, "08:00", "Local time of day (HH:MM) at which campaign posts go out."),
        Setting("opens_template", str, "moi-gop-y", "Template of the post when consultation opens."),
        Setting("reminder_template", str, "nhac-han-gop-y", "Template of the reminder before consultation closes."),
        Setting("passed_template", str, "thong-qua", "Template of the post when the document is passed."),
        Setting("issued_template", str, "ban-hanh", "Template of the post when the document is issued."),
        Setting("infographics", list, ["vuong"], "Infographic layouts attached to every campaign post."),
        Setting("news_deadline_days", float, 14.0, "Posts about a passed or issued document are not published later than this after their time.", minimum=0.01),
    ),
    "posts": (
        Setting("deadline_days", float, 7.0, "A general post (not an invitation, reminder, passed or issued news: see deadlines.py) without a deadline of its own is not published later than this after its time (then it fails, with the reason).", minimum=0.01),
    ),
    "audit": (
        Setting("coverage_target", float, 0.7, "Share of high-impact policies that must be communicated (0..1): the sample plan asks 0.7, the national scheme 1.0 from 2023.", minimum=0, maximum=1),
        Setting("coverage_requires", str, "any", "What makes a policy communicated: a published delivery on any channel, on a portal, on a fanpage, or on both.", choices=("any", "portal", "fanpage", "both")),
    ),
    "templates": (
        Setting("dir", str, "templates", "Folder of templates that override the built-in ones (relative to the config file)."),
        Setting("default", str, "moi-gop-y", "Template used when a post names none."),
    ),
    "web": (
        Setting("host", str, "127.0.0.1", "Address `publisher web` listens on; 127.0.0.1 serves this machine only (put a reverse proxy with HTTPS in front for others)."),
        Setting("port", int, 8080, "TCP port `publisher web` listens on.", minimum=1, maximum=65535),
        Setting("secret_env", str, "PUBLISHER_WEB_SECRET", "Name of the environment variable holding the secret that signs session cookies (at least 32 characters; never written in config.toml)."),
        Setting("secret_file", str, "", "A file holding that secret instead (relative to the config file); used when the variable is unset or empty.", is_path=True),
        Setting("session_hours", float, 8.0, "A login lasts this long; then the person signs in again.", minimum=0.05, maximum=24 * 30),
        Setting("login_attempts", int, 5, "Failed logins allowed per 15 minutes, per username and per client address; further attempts are refused (429) until the window passes.", minimum=1),
        Setting("workers", int, 1, "Server processes of `publisher web` (one per CPU core serves more people at once; all share the database, the login limit included).", minimum=1, maximum=64),
    ),
}

AGENCY: tuple[Setting, ...] = (
    Setting("name", str, None, "Full name of the agency (cơ quan), shown in posts and reports."),
    Setting("logo", str, "", "The agency's logo (PNG) for infographics, relative to the config file; empty: the placeholder logo.", is_path=True),
)

CHANNEL: tuple[Setting, ...] = (
    Setting("type", str, None, "Channel kind: outbox (files, the default), facebook (a Page), wordpress (a portal) or webhook (a portal's own API)."),
    Setting("agency", str, None, "Code of the agency that owns this channel (a key of [agencies])."),
    Setting("format", str, "portal", "Which template variant it gets: portal (HTML article) or facebook (plain text).",
            choices=("portal", "facebook")),
    Setting("enabled", bool, True, "A disabled channel keeps its queue but publishes nothing."),
    Setting("concurrency", int, 1, "How many deliveries of this channel are published at the same time.", minimum=1),
    Setting("max_per_hour", int, 0, "At most this many publishing attempts on this channel in any hour, counted across all daemons (a Page's feed is not flooded); 0 = no limit.", minimum=0),
)

#: Key names that hold a secret: they must be referenced (NAME_env / NAME_file), never inline.
SECRET_NAMES = ("token", "password", "secret", "app_secret", "api_key", "access_token", "passwd", "private_key")


def is_secret_key(key: str) -> bool:
    k = key.lower()
    return k in SECRET_NAMES or k.endswith(tuple("_" + n for n in SECRET_NAMES))
