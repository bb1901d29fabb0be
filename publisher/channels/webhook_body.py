"""The JSON body a webhook channel POSTs, rendered from ``webhooks/<template>.json``.

The template sees the delivery (ids, the idempotency key, policy, agency,
channel, the frozen title and body, the content hash, times in ISO 8601) and
its media as :class:`Media`.  What it renders must be JSON; it is sent compact,
in UTF-8.  A broken template (a syntax error, invalid JSON, a filter given the
wrong value...) is :class:`~publisher.errors.ContentRejected` naming its file
and line: this content cannot go out, and retrying cannot help.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

from ..errors import ContentRejected
from ..models import Delivery
from ..render.text import environment

_TEMPLATE_ERRORS = (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError, ArithmeticError, OSError)


@dataclass(frozen=True)
class Media:
    """A frozen media file as a body template sees it; ``base64`` is read only if the template uses it."""

    name: str
    sha256: str
    file: Path

    @property
    def size(self) -> int:
        return self.file.stat().st_size

    @cached_property
    def base64(self) -> str:
        return base64.b64encode(self.file.read_bytes()).decode("ascii")


def context(delivery: Delivery, key: str, media_path: Callable[[str], Path]) -> dict[str, Any]:
    """What the body template of *delivery* sees (*media_path* finds a frozen media file)."""
    c = delivery.content
    return {
        "delivery_id": delivery.id, "post_id": delivery.post_id, "idempotency_key": key,
        "policy_code": delivery.policy_code, "agency": delivery.agency, "channel": delivery.channel,
        "title": c.title, "body": c.body, "content_sha256": delivery.content_sha256,
        "due_at": delivery.due_at.isoformat(),
        "deadline_at": delivery.deadline_at.isoformat() if delivery.deadline_at else None,
        "media": [Media(m.name, m.sha256, media_path(m.path)) for m in c.media],
    }


def render(dirs: tuple[Path, ...], name: str, values: dict[str, Any]) -> bytes:
    """Template *name* (first found in *dirs*) rendered with *values*, as compact UTF-8 JSON."""
    file = name
    try:
        template = environment(dirs).get_template(name)
        file = template.filename or file  # the copy used: template_dir's or the built-in one
        value = json.loads(text := template.render(values))
    except jinja2.TemplateSyntaxError as exc:
        raise ContentRejected(f"webhook template {exc.filename or file}, line {exc.lineno}: "
                              f"{exc.message}") from None
    except json.JSONDecodeError as exc:
        raise ContentRejected(f"webhook template {file} did not produce valid JSON: {exc} "
                              f"(near {text[max(0, exc.pos - 30):exc.pos + 30]!r})") from None
    except _TEMPLATE_ERRORS as exc:
        raise ContentRejected(f"webhook template {file}{_line(exc, file)}: {type(exc).__name__}: {exc}") from None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _line(exc: BaseException, file: str) -> str:
    """', line N' of the innermost template frame (Jinja rewrites tracebacks to template lines)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == file else line
        tb = tb.tb_next
    return f", line {line}" if line else ""
