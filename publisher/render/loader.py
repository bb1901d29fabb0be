"""Where post templates are found, and the one Jinja2 environment that loads them.

Templates live in ``templates/posts/<name>.<format>.<ext>``: ``portal`` posts
are HTML (autoescaped, then sanitised), ``facebook`` posts are plain text.
Staff override a built-in template by putting a file of the same name in their
own folder: the environment is a ``ChoiceLoader`` over the user's folder, then
the built-in one.  ``StrictUndefined`` makes a missing variable an error
instead of a blank in a public post.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import jinja2

from .filters import FILTERS

FORMAT_EXT = {"portal": "html", "facebook": "txt"}


def template_name(dirs: Sequence[Path], name: str, fmt: str) -> str | None:
    """The loader name of template *name* for *fmt*, or None if no folder has it."""
    rel = f"posts/{name}.{fmt}.{FORMAT_EXT[fmt]}"
    return rel if any((d / rel).is_file() for d in dirs) else None


def available(dirs: Sequence[Path]) -> list[str]:
    """Names of the templates found in any folder (for help and errors)."""
    found = {p.name.split(".")[0] for d in dirs for p in (d / "posts").glob("*.*.*")}
    return sorted(found)


@lru_cache(maxsize=8)
def environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    """The one place Jinja2 environments are built (cached: one per set of folders)."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html")),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env
