"""The compose preview's infographics: the same pixels as approval draws, drawn again only when an input changed."""

from __future__ import annotations

import os
import shutil

import pytest

from publisher import content, service
from publisher.render import infographic
from publisher.web import preview_images

from .helpers import add_policy


@pytest.fixture
def drawn(monkeypatch):
    """How many times an infographic was really drawn."""
    calls: list[str] = []
    real = infographic.render

    def counting(dirs, name, data, fmt="png"):
        calls.append(name)
        return real(dirs, name, data, fmt)

    monkeypatch.setattr(infographic, "render", counting)
    monkeypatch.setattr(preview_images, "_kept", type(preview_images._kept)())
    return calls


def test_the_same_image_as_approval_drawn_once_while_nothing_changes(sqlite_app, drawn):
    policy = add_policy(sqlite_app)
    first = preview_images.draw(sqlite_app, policy, "vuong")
    assert [first] == content.draw(sqlite_app, policy, ["vuong"])  # byte for byte what approval freezes
    assert drawn == ["vuong", "vuong"]
    for _ in range(5):  # staff typing: the image is not drawn again
        assert preview_images.draw(sqlite_app, policy, "vuong") == first
    assert drawn == ["vuong", "vuong"]
    preview_images.draw(sqlite_app, policy, "doc")
    assert drawn[-1] == "doc"


def test_an_edited_policy_or_layout_is_drawn_afresh(sqlite_app, drawn):
    policy = add_policy(sqlite_app)
    before = preview_images.draw(sqlite_app, policy, "vuong")
    edited, _ = service.update_policy(sqlite_app, "bien-tap", policy.code, policy.agency,
                                      {"title": "Nghị quyết đã sửa tên hoàn toàn khác"})
    after = preview_images.draw(sqlite_app, edited, "vuong")
    assert after[1] != before[1] and len(drawn) == 2
    own, shipped = sqlite_app.config.template_dirs[0], sqlite_app.config.template_dirs[-1]
    assert own != shipped
    (own / "infographics").mkdir(parents=True, exist_ok=True)
    layout = shutil.copy(shipped / "infographics" / "vuong.toml", own / "infographics" / "vuong.toml")
    preview_images.draw(sqlite_app, edited, "vuong")  # the user's copy now wins: noticed
    assert len(drawn) == 3
    stat = os.stat(layout)
    os.utime(layout, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # edited in place
    preview_images.draw(sqlite_app, edited, "vuong")
    assert len(drawn) == 4
    preview_images.draw(sqlite_app, edited, "vuong")
    assert len(drawn) == 4


def test_only_the_last_few_are_kept(sqlite_app, drawn, monkeypatch):
    monkeypatch.setattr(preview_images, "KEPT", 2)
    policy = add_policy(sqlite_app)
    for layout in ("vuong", "doc", "the-lien-ket", "vuong"):
        preview_images.draw(sqlite_app, policy, layout)
    assert drawn == ["vuong", "doc", "the-lien-ket", "vuong"] and len(preview_images._kept) == 2
