"""What the compose page offers to choose: the post templates with their variables, and the layouts.

A template's variables are read from its source (every format it has):
Jinja2's ``meta.find_undeclared_variables`` minus what ``content.context``
provides itself; a variable only tested with ``is defined`` is optional.
A template's description is the first sentence of its leading ``{# #}`` comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2
from jinja2 import meta, nodes

from ..context import App
from ..render import infographic
from ..render import text as render_text

#: What the renderer gives every template itself (``content.context``), and ``title``, which a template sets
#: (in a branch, Jinja counts it as undeclared): never a form field.
PROVIDED = frozenset({"policy", "agency", "channel", "today", "title"})
_COMMENT = re.compile(r"^\s*\{#-?(.*?)-?#\}", re.S)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    variables: tuple[str, ...]
    optional: frozenset[str]


def _source(env: jinja2.Environment, rel: str) -> str:
    assert env.loader is not None
    return env.loader.get_source(env, rel)[0]


def template_info(app: App, name: str) -> TemplateInfo:
    """The variables template *name* uses (in any format) and its description."""
    dirs = app.config.template_dirs
    env = render_text.environment(tuple(dirs))
    found: set[str] = set()
    tested: set[str] = set()
    description = ""
    for fmt in render_text.FORMAT_EXT:
        rel = render_text.template_name(dirs, name, fmt)
        if rel is None:
            continue
        source = _source(env, rel)
        if not description and (head := _COMMENT.match(source)):
            description = _first_sentence(head.group(1))
        _variables(env, source, found, tested)
    return TemplateInfo(name, description, tuple(sorted(found)), frozenset(tested & found))


def _variables(env: jinja2.Environment, source: str, found: set[str], tested: set[str]) -> None:
    """Add the variables *source* uses to *found*, and those it tests with ``is defined`` to *tested*."""
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError:
        return  # the preview names the error
    found |= meta.find_undeclared_variables(tree) - PROVIDED
    for test in tree.find_all(nodes.Test):
        if test.name == "defined" and isinstance(test.node, nodes.Name):
            tested.add(test.node.name)


def _first_sentence(comment: str) -> str:
    text = " ".join(comment.split())
    for stop in (" — ", ". ", " ("):
        text = text.split(stop)[0]
    return text.rstrip(".")[:140]


def templates(app: App) -> list[TemplateInfo]:
    """Every post template, built-in and the project's own."""
    return [template_info(app, name) for name in render_text.available(app.config.template_dirs)]


def variable_choices(found: list[TemplateInfo]) -> list[tuple[str, list[str], bool]]:
    """Each variable of any template: (name, the templates using it, optional in all of them)."""
    names = sorted({n for info in found for n in info.variables})
    users = {n: [i for i in found if n in i.variables] for n in names}
    return [(n, [i.name for i in users[n]], all(n in i.optional for i in users[n])) for n in names]


def template_names(app: App) -> list[str]:
    """The names of every post template (without reading their sources)."""
    return render_text.available(app.config.template_dirs)


def layouts(app: App) -> list[str]:
    """The names of every infographic layout."""
    return infographic.available(app.config.template_dirs)
