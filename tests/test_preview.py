"""``publisher preview`` and ``publisher render`` write what staff need to check a post."""

from __future__ import annotations

import json

from PIL import Image

from .conftest import run_cli


def _ok(*args, cwd):
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def _setup(project, posts=1):
    _ok("policy", "add", "--agency", "tinh", "--code", "KH-7", "--title", "Chính sách hỗ trợ học phí",
        "--summary", "Tóm tắt", "--point", "Miễn học phí", "--point", "Từ năm học 2027",
        "--consultation-opens", "2026-12-01", "--consultation-closes", "2026-12-31",
        "--draft-url", "https://tinh.example.gov.vn/du-thao/7", cwd=project)
    for _ in range(posts):
        _ok("--as", "bien-tap", "post", "new", "--policy", "KH-7", "--at", "2026-12-10 08:00", "--json",
            cwd=project)


def test_preview_of_a_draft_writes_text_per_channel_and_images(project):
    _setup(project)
    run = _ok("preview", "1", "--out", "xem", cwd=project)
    paths = run.stdout.split()
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == ["fanpage.txt", "portal.html"]
    portal = (project / "xem" / "post-1" / "portal.html").read_text(encoding="utf-8")
    assert "<h1>" in portal and "Chính sách hỗ trợ học phí" in portal
    fanpage = (project / "xem" / "post-1" / "fanpage.txt").read_text(encoding="utf-8")
    assert "https://tinh.example.gov.vn/du-thao/7" in fanpage and "<" not in fanpage


def test_preview_of_a_template_with_sample_data_draws_the_layouts(project):
    run = _ok("preview", "--sample", "--template", "moi-gop-y", "--layout", "vuong", "--layout", "doc",
              "--out", "mau", cwd=project)
    images = [p for p in run.stdout.split() if p.endswith(".png")]
    assert [Image.open(project / p).size for p in images] == [(1080, 1080), (1080, 1350)]
    assert not (project / "data" / "media").exists()  # a preview freezes nothing


def test_preview_needs_something_to_show(project):
    result = run_cli("preview", cwd=project)
    assert result.returncode == 2 and "--sample" in result.stderr


def test_render_many_posts_on_all_cores(project):
    _setup(project, posts=3)
    result = _ok("render", "--policy", "KH-7", "--jobs", "2", "--out", "loat", cwd=project)
    assert "3" in result.stdout
    for post in (1, 2, 3):
        assert (project / "loat" / f"post-{post}" / "fanpage.txt").is_file()
    shown = json.loads(_ok("post", "list", "--json", cwd=project).stdout)
    assert [p["state"] for p in shown] == ["draft"] * 3  # rendering previews changes nothing
