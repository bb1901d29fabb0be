"""The second wall of an HTML post: sanitising its body, and its title as plain text.

HTML output is sanitised with nh3 after rendering (autoescaping protects
variables; sanitising is the second wall against a ``<script>`` in an edited
template): only :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES` survive,
links get ``rel="noopener noreferrer"``, URLs must be http, https or mailto
(or relative).  The title of an HTML post is plain text: tags are removed and
entities decoded, so a channel must escape it where it is HTML.
"""

from __future__ import annotations

import re
from typing import Any

import markupsafe
import nh3

#: Tags an HTML article may keep after sanitising.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark", "abbr",
    "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "a", "figure", "figcaption", "img",
    "table", "caption", "thead", "tbody", "tr", "th", "td",
})
#: Attributes each tag may keep (no ``on*``, no ``style``; ``rel`` is set by the sanitiser).
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "svg", "math", "iframe", "object", "embed",
                                  "noscript", "template", "textarea"})
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")


def sanitise(html: str) -> str:
    """The second wall: keep only article markup, safe attributes and safe URLs."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain_title(value: Any) -> str:
    """An HTML post's title as plain text: tags removed, entities decoded, spaces collapsed."""
    text = value.unescape() if isinstance(value, markupsafe.Markup) else str(value)
    previous = None
    while previous != text:  # '<<b>script>' needs two passes
        previous, text = text, _TAG.sub("", text)
    return " ".join(text.split())
