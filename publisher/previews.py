"""Previews: the text and images of a post (or a template) written to files.

Staff open them before asking for approval; ``publisher render`` makes many
at once on every core (a province-wide campaign: one image per commune).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import select

from . import content, demo, posts
from .context import App
from .models import Impact, Policy, PostState, utcnow
from .render.text import FORMAT_EXT
from .store.engine import read
from .store.schema import policies
from .store.schema import posts as t_posts


def write(out: Path, texts: dict[str, tuple[str, str]], images: Sequence[tuple[str, bytes]],
          formats: dict[str, str]) -> list[Path]:
    """One text file per channel and one file per image under *out*; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for channel, (title, body) in texts.items():
        path = out / f"{channel}.{FORMAT_EXT[formats[channel]]}"
        header = f"<h1>{title}</h1>\n" if formats[channel] == "portal" else f"{title}\n\n"
        path.write_text(header + body, encoding="utf-8")
        written.append(path)
    for name, data in images:
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


def of_post(app: App, post_id: int, out: Path) -> list[Path]:
    texts, images = posts.preview(app, post_id)
    return write(out, texts, images, {c: app.config.channels[c].format for c in texts})


def of_template(app: App, policy: Policy, template: str, channels: Sequence[str], layouts: Sequence[str],
                out: Path) -> list[Path]:
    """A template (and layouts) rendered for *policy* without writing any post."""
    draft = content.Draft(template=template, variables={}, channels=tuple(channels), infographics=tuple(layouts))
    texts = {c: content.text(app, policy, draft, c) for c in channels}
    return write(out, texts, content.draw(app, policy, layouts), {c: app.config.channels[c].format for c in channels})


def sample_policy(app: App) -> Policy:
    """The demo policy (plan 06/KH-UBND), in memory, for previews without data."""
    today = utcnow().astimezone(app.config.timezone).date()
    return Policy(id=0, agency=next(iter(app.config.agencies)), code=demo.CODE, title=demo.TITLE,
                  summary=demo.SUMMARY, impact=Impact.HIGH, consultation_opens=today,
                  consultation_closes=today + timedelta(days=30), draft_url=demo.DRAFT_URL,
                  key_points=demo.KEY_POINTS, affected=demo.AFFECTED, comment_how=demo.COMMENT_HOW)


def post_ids(app: App, agency: str | None, policy: str | None, state: str | None) -> list[int]:
    query = select(t_posts.c.id).join(policies).order_by(t_posts.c.id)
    for column, value in ((policies.c.agency, agency), (policies.c.code, policy), (t_posts.c.state, state)):
        if value:
            query = query.where(column == value)
    with read(app.engine) as conn:
        return list(conn.execute(query.where(t_posts.c.state != PostState.CANCELLED)).scalars())


_worker_app: App | None = None


def _open(config_path: str | None) -> None:
    global _worker_app
    _worker_app = App.open(config_path, ensure_schema=False)  # each worker opens its own connections


def _render_one(post_id: int, out: str) -> list[Path]:
    assert _worker_app is not None
    return of_post(_worker_app, post_id, Path(out) / f"post-{post_id}")


def render_many(config_path: str | None, ids: Sequence[int], out: Path, jobs: int | None = None,
                progress: Callable[[int], None] = lambda _: None) -> list[Path]:
    """Previews of many posts on every core; *progress* is called once per post."""
    written: list[Path] = []
    workers = max(1, min(jobs or os.cpu_count() or 1, len(ids) or 1))
    # spawn, not fork: a forked child would share the parent's database connections
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_open,
                             initargs=(config_path,)) as pool:
        for paths in pool.map(_render_one, ids, [str(out)] * len(ids)):
            written.extend(paths)
            progress(1)
    return written
