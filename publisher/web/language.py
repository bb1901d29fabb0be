"""Each request speaks its own language.

``publisher.i18n.t`` reads a process-global language, which is right for a
CLI run (one person, one language) and wrong for a server: two requests in
two threads would switch it under each other.  So the web face never calls
``i18n.set_language``; each request gets a :class:`Speaker` bound to the
language of its ``lang`` cookie (else ``display.language``), and pages and
messages are looked up through it.  The texts are the same catalogue
(``locale/*.toml``; the web's own keys are in ``locale/web.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

from .. import i18n
from ..errors import PublisherError

#: The cookie that remembers the language a browser chose.
LANG_COOKIE = "lang"
#: How long that choice is remembered (a year: it is a preference, not a credential).
LANG_COOKIE_SECONDS = 365 * 24 * 3600


class Speaker:
    """Messages in one language, for one request."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in i18n.LANGUAGES else "vi"

    def t(self, key: str, /, **params: object) -> str:
        """The message *key* in this speaker's language (the same contract as ``i18n.t``)."""
        return self._lookup(key, params)

    def error(self, exc: PublisherError) -> str:
        """A library error (a key and its parameters) in this speaker's language."""
        return self._lookup(exc.key, exc.params)

    def _lookup(self, key: str, params: Mapping[str, object]) -> str:
        texts = i18n.catalogue().get(key)
        if texts is None:  # a missing key is a bug, but never hide the data from the user
            return f"{key} {dict(params)}" if params else key
        text = texts.get(self.lang) or texts["vi"]
        return text.format(**params) if params else text


def choose(request: Request, default: str) -> str:
    """The request's language: its cookie when it names a known language, else *default*."""
    wanted = request.cookies.get(LANG_COOKIE, "")
    if wanted in i18n.LANGUAGES:
        return wanted
    return default if default in i18n.LANGUAGES else "vi"


def speaker(request: Request) -> Speaker:
    """The Speaker of *request* (made once per request, kept on its state)."""
    found = getattr(request.state, "speaker", None)
    if isinstance(found, Speaker):
        return found
    made = Speaker(choose(request, request.app.state.site.app.config.language))
    request.state.speaker = made
    return made
