"""Media at approval: infographics drawn and frozen, per-channel rules, originals kept."""

from __future__ import annotations

import io
import json
import os

import pytest
from PIL import Image

from publisher import media, posts
from publisher.dispatch import Dispatcher
from publisher.errors import InputError
from publisher.models import utcnow
from publisher.render import media_rules
from publisher.store import deliveries as store
from publisher.store.engine import read

from .helpers import add_policy

FACEBOOK = media_rules.RULES["facebook"]
POINTS = {"key_points": ["Miễn học phí cho học sinh vùng khó khăn", "Áp dụng từ năm học 2027"],
          "affected": "Học sinh, phụ huynh", "comment_how": "Gửi ý kiến qua Cổng thông tin tỉnh"}


def _post(app, **extra):
    post = posts.new_post(app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                            "channels": ["portal", "fanpage"], "at": "now", **extra})
    return post, posts.approve(app, "truong-phong", post.id)


def _deliveries(app, ids):
    with read(app.engine) as conn:
        return {d.channel: d for d in (store.get(conn, i) for i in ids)}


def test_infographics_are_drawn_once_at_approval_and_frozen(sqlite_app):
    add_policy(sqlite_app, **POINTS)
    _, ids = _post(sqlite_app, infographics=["vuong", "the-lien-ket"])
    found = _deliveries(sqlite_app, ids)
    portal, fanpage = found["portal"].content.media, found["fanpage"].content.media
    assert [m.name for m in portal] == ["12-2026-NQ-HĐND-vuong.png", "12-2026-NQ-HĐND-the-lien-ket.png"]
    assert portal == fanpage  # PNGs within Facebook's rules: the same frozen files
    sizes = [Image.open(sqlite_app.data_dir / m.path).size for m in portal]
    assert sizes == [(1080, 1080), (1200, 630)]
    assert all(media.intact(sqlite_app.data_dir, m) and m.path.startswith("media/") for m in portal)
    assert Dispatcher(sqlite_app, "w").run_once() == {"published": 2}
    record = json.loads((sqlite_app.data_dir / "outbox" / "fanpage" / f"{found['fanpage'].id}.json").read_text())
    assert len(record["media"]) == 2


def test_a_photo_too_big_for_facebook_is_converted_and_the_original_kept(sqlite_app, project):
    add_policy(sqlite_app)
    big = project / "anh-lon.png"
    Image.frombytes("RGB", (2600, 2000), os.urandom(2600 * 2000 * 3)).save(big, "PNG", compress_level=1)
    assert big.stat().st_size > FACEBOOK.max_bytes
    _, ids = _post(sqlite_app, media=[str(big)])
    found = _deliveries(sqlite_app, ids)
    [original], [converted] = found["portal"].content.media, found["fanpage"].content.media
    assert media.file_sha256(big) == original.sha256  # the portal gets the original, byte for byte
    data = (sqlite_app.data_dir / converted.path).read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and max(image.size) == FACEBOOK.max_side and len(data) <= FACEBOOK.max_bytes
    assert converted.name == "anh-lon.jpg" and (sqlite_app.data_dir / original.path).exists()


def test_media_rules_leave_acceptable_images_alone_and_flatten_transparency():
    small = io.BytesIO()
    Image.new("RGB", (100, 50), "red").save(small, "PNG")
    assert media_rules.adapt(small.getvalue(), "a.png", FACEBOOK) is None
    assert media_rules.adapt(small.getvalue(), "a.png", None) is None
    webp = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 255, 0)).save(webp, "WEBP")
    data, suffix = media_rules.adapt(webp.getvalue(), "a.webp", FACEBOOK)
    converted = Image.open(io.BytesIO(data))
    assert suffix == ".jpg" and converted.mode == "RGB" and converted.getpixel((5, 5)) == (255, 255, 255)


def test_a_file_that_is_not_an_image_is_refused_for_facebook_when_the_post_is_written(sqlite_app, project):
    add_policy(sqlite_app)
    fake = project / "khong-phai-anh.png"
    fake.write_bytes(b"%PDF-1.4 not an image")
    with pytest.raises(InputError, match="khong-phai-anh.png"):
        _post(sqlite_app, media=[str(fake)])
    assert posts.list_posts(sqlite_app) == [] and not (sqlite_app.data_dir / "media").exists()


def test_an_unknown_layout_is_refused_when_the_post_is_written(sqlite_app):
    add_policy(sqlite_app)
    with pytest.raises(InputError, match="khong-co"):
        _post(sqlite_app, infographics=["khong-co"])
    assert posts.list_posts(sqlite_app) == []


TINY_LAYOUT = """
[canvas]
width = 400
height = 200
background = "#FFFFFF"

[[blocks]]
name = "tieu-de-nho"
kind = "text"
field = "title"
x = 10
y = 10
w = 120
h = 40
font = "fonts/BeVietnamPro-Bold.ttf"
size = [14, 16]
colour = "#000000"
"""


def test_text_that_cannot_fit_a_user_layout_is_refused_when_the_post_is_written(sqlite_app, project):
    (project / "templates" / "infographics").mkdir()
    (project / "templates" / "infographics" / "nho.toml").write_text(TINY_LAYOUT, encoding="utf-8")
    add_policy(sqlite_app, **POINTS)
    with pytest.raises(InputError) as err:
        _post(sqlite_app, infographics=["nho"])
    assert "tieu-de-nho" in str(err.value) and "Nghị quyết" in str(err.value)
    assert posts.list_posts(sqlite_app) == []


def test_a_policy_title_longer_than_an_infographic_can_show_is_refused(sqlite_app):
    with pytest.raises(InputError, match="200"):
        add_policy(sqlite_app, title="Chính sách hỗ trợ học phí " * 8)


def test_approval_renders_what_the_policy_says_at_approval_time(sqlite_app):
    add_policy(sqlite_app, **POINTS)
    post = posts.new_post(sqlite_app, "bien-tap", {"policy": "12/2026/NQ-HĐND", "agency": "tinh",
                                                   "channels": ["fanpage"], "infographics": ["vuong"],
                                                   "at": utcnow().isoformat()})
    _, before = posts.preview(sqlite_app, post.id)
    [did] = posts.approve(sqlite_app, "truong-phong", post.id)
    _, after = posts.preview(sqlite_app, post.id)
    assert [name for name, _ in before] == [name for name, _ in after]
    assert [data for _, data in before] == [data for _, data in after]  # deterministic drawing
    assert _deliveries(sqlite_app, [did])["fanpage"].content.media[0].sha256 == media.sha256_bytes(after[0][1])
