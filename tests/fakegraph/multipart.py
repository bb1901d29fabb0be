"""Request bodies: urlencoded forms, multipart/form-data (file parts as :class:`Upload`), JSON objects."""

from __future__ import annotations

import email.parser
import email.policy
import json
from urllib.parse import parse_qsl

from .errors import err_param
from .records import Upload


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields and file parts of a request body (urlencoded, multipart or JSON)."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    if kind == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            raise err_param("(#100) The request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise err_param("(#100) The request body must be a JSON object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}, {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise err_param("(#100) The request body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True)), {}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Fields and files of a ``multipart/form-data`` body (the stdlib email parser)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise err_param("(#100) Invalid multipart body")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None or name == "source":
            files[str(name)] = Upload(filename, part.get_content_type() if part.get("content-type") else None, data)
        else:
            fields[str(name)] = data.decode("utf-8", errors="replace")
    return fields, files
