"""publisher.render.infographic: the shipped layouts, golden images, fitting, bad layouts, fonts, logo, QR.

Golden images live in tests/golden/<layout>.png; after an intended change
regenerate them with ``PUBLISHER_UPDATE_GOLDEN=1 pytest tests/test_infographic.py``
and look at them before committing.  They are compared by pixels with a
tolerance (not bytes), so a zlib or FreeType patch release does not break them.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
import segno
from PIL import Image, ImageChops, ImageDraw, ImageStat

from publisher import demo, resources
from publisher.errors import InputError
from publisher.render import fit, fonts, glyphs, infographic
from publisher.render.infographic import InfographicData

BUILTIN = resources.builtin_templates()
DIRS = (BUILTIN,)
GOLDEN = Path(__file__).resolve().parent / "golden"
LOGO = resources.assets() / "logos" / "logo-mau.png"
URL = "https://example.gov.vn/du-thao/06-kh-ubnd"
SIZES = {"vuong": (1080, 1080), "the-lien-ket": (1200, 630), "doc": (1080, 1350)}

DATA = demo.infographic_sample()

MINIMAL = """\
[canvas]
width = 400
height = 300
background = "#FFFFFF"

[colours]
chinh = "#0D3B7A"

[[blocks]]
name = "nen"
kind = "rect"
x = 0
y = 0
w = 400
h = 80
fill = "chinh"

[[blocks]]
name = "tieu-de"
kind = "text"
field = "title"
x = 20
y = 10
w = 360
h = 60
font = "fonts/BeVietnamPro-Bold.ttf"
size = [12, 30]
colour = "#FFFFFF"

[[blocks]]
name = "ma-qr"
kind = "qr"
x = 280
y = 100
w = 100
h = 100
"""


def _user_layout(tmp_path: Path, text: str, name: str = "thu") -> Path:
    folder = tmp_path / "mau"
    (folder / "infographics").mkdir(parents=True, exist_ok=True)
    (folder / "infographics" / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def _draw_user(tmp_path: Path, text: str, data: InfographicData = DATA, report: bool = False):
    folder = _user_layout(tmp_path, text)
    return infographic.draw(infographic.load_layout((folder, BUILTIN), "thu"), data, report=report)


def _compare(actual: Image.Image, expected: Image.Image) -> tuple[float, float]:
    """(mean absolute difference per channel, share of pixels with a channel off by more than 32)."""
    diff = ImageChops.difference(actual.convert("RGB"), expected.convert("RGB"))
    mean = sum(ImageStat.Stat(diff).mean) / 3
    worst = ImageChops.lighter(ImageChops.lighter(*diff.split()[:2]), diff.split()[2])  # max over channels
    off = sum(worst.histogram()[33:])
    return mean, off / (diff.width * diff.height)


# --- the shipped layouts ------------------------------------------------------------------------------

def test_the_three_layouts_ship():
    assert set(SIZES) <= set(infographic.available(DIRS))


@pytest.mark.parametrize("name", sorted(SIZES))
def test_each_layout_renders_the_demo_policy_at_its_size(name):
    png = infographic.render(DIRS, name, DATA)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == SIZES[name] and image.mode == "RGB"
    jpeg = Image.open(io.BytesIO(infographic.render(DIRS, name, DATA, fmt="jpeg")))
    assert jpeg.format == "JPEG" and jpeg.size == SIZES[name] and jpeg.mode == "RGB"


@pytest.mark.parametrize("name", sorted(SIZES))
def test_golden_image(name):
    actual = Image.open(io.BytesIO(infographic.render(DIRS, name, DATA)))
    golden = GOLDEN / f"{name}.png"
    if os.environ.get("PUBLISHER_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        actual.save(golden)
        pytest.skip(f"golden image {golden.name} written")
    expected = Image.open(golden)
    assert actual.size == expected.size
    mean, off = _compare(actual, expected)
    assert mean < 1.0 and off < 0.005, f"{name}: mean diff {mean:.3f}, {off:.2%} of pixels off by > 32"


@pytest.mark.parametrize("name", sorted(SIZES))
def test_output_is_deterministic(name):
    assert infographic.render(DIRS, name, DATA) == infographic.render(DIRS, name, DATA)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_nothing_is_drawn_outside_the_blocks(name):
    layout = infographic.load_layout(DIRS, name)
    image, drawn = infographic.draw(layout, DATA, report=True)
    mask = Image.new("L", image.size, 0)
    pen = ImageDraw.Draw(mask)
    for block in layout.blocks:
        pen.rectangle((block.x, block.y, block.x + block.w - 1, block.y + block.h - 1), fill=255)
    plain = Image.new("RGB", image.size, layout.background)
    outside = Image.composite(plain, image, mask)  # blocks blanked out
    assert ImageChops.difference(outside, plain).getbbox() is None
    shown = {d.block for d in drawn}
    assert {"tieu-de", "diem-chinh", "doi-tuong", "cach-gop-y", "han-gop-y", "co-quan", "logo", "ma-qr"} <= shown


def test_nfd_input_draws_like_nfc():
    nfd = replace(DATA, title=unicodedata.normalize("NFD", DATA.title),
                  points=tuple(unicodedata.normalize("NFD", p) for p in DATA.points))
    assert nfd.title != DATA.title
    assert infographic.render(DIRS, "vuong", nfd) == infographic.render(DIRS, "vuong", DATA)


def test_stacked_capitals_stay_inside_their_block():
    layout = infographic.load_layout(DIRS, "vuong")
    data = replace(DATA, title="ẤỂỖẶ ỨỪỬỮỰ ẦẨẪẬ ĐỒNG Ý")
    _, drawn = infographic.draw(layout, data, report=True)
    block = next(b for b in layout.blocks if b.name == "tieu-de")
    boxes = [d.box for d in drawn if d.block == "tieu-de"]
    assert boxes and all(block.y <= top and bottom <= block.y + block.h for _, top, _, bottom in boxes)
    metrics_ascent = fonts.font(block.font, 46).getmetrics()[0]
    assert glyphs.face(block.font, 46).ink("Ỗ")[1] < -metrics_ascent  # the accent rises above the ascent


# --- the glyph cache draws what Pillow draws -----------------------------------------------------------

@pytest.mark.parametrize("size", [13, 22, 46])
def test_cached_glyphs_measure_and_draw_like_pillow(size):
    rel = "fonts/BeVietnamPro-Regular.ttf"
    text = "Ấ Ể Ỗ Ặ ữ đ — Quét mã để góp ý (70%) “Đề án” gjpqy"
    face = glyphs.face(rel, size)
    assert face.ink(text) == tuple(int(v) for v in face.font.getbbox(text, anchor="ls"))
    ours, pillows = Image.new("RGB", (900, 120), "white"), Image.new("RGB", (900, 120), "white")
    face.draw(ImageDraw.Draw(ours), 10, 80, text, (13, 59, 122))
    ImageDraw.Draw(pillows).text((10, 80), text, font=face.font, fill=(13, 59, 122), anchor="ls")
    diff = ImageChops.difference(ours, pillows).convert("L")
    # identical except where two glyphs' edge pixels overlap (Pillow keeps the max, stamping blends twice)
    assert sum(diff.histogram()[1:]) <= 3 and diff.getextrema()[1] <= 8


# --- fitting ------------------------------------------------------------------------------------------

def test_text_that_cannot_fit_names_the_block_and_the_text(tmp_path):
    layout = MINIMAL.replace("size = [12, 30]", "size = [28, 30]")
    with pytest.raises(InputError) as caught:
        _draw_user(tmp_path, layout)
    message = str(caught.value)
    assert caught.value.key == "render.cannot_fit"
    assert "tieu-de" in message and "thu.toml" in message and DATA.title[:20] in message


def test_text_shrinks_and_an_overlong_word_is_broken(tmp_path):
    word = "https://example.gov.vn/" + "a" * 60  # one "word" wider than the block
    image, drawn = _draw_user(tmp_path, MINIMAL, replace(DATA, title=word), report=True)
    lines = [d for d in drawn if d.block == "tieu-de"]
    assert len(lines) >= 2 and "".join(d.text for d in lines) == word
    assert all(20 <= d.box[0] and d.box[2] <= 380 for d in lines)


def test_wrap_keeps_a_lone_dash_with_its_neighbours():
    face = glyphs.face("fonts/BeVietnamPro-Regular.ttf", 20)
    width = face.measure("giai đoạn 2022 - 2027")[0] - 2  # "2027" cannot stay on the first line
    assert fit.wrap(face, "giai đoạn 2022 - 2027 năm 2024", width)[0] == "giai đoạn"
    assert fit.wrap(face, "a - b", 5) == ["a", "-", "b"]  # too narrow to keep together: words again


def _at_limit(words: str, limit: int) -> str:
    return " ".join([words] * (limit // len(words) + 1))[:limit].strip()


@pytest.mark.parametrize("name", sorted(SIZES))
@pytest.mark.parametrize("words", ["NGƯỜI ĐƯỢC HƯỞNG QUYỀN MƯỜNG ĐỒNG ẤỂỖẶ ỮĐ", "Ặ" * 400],
                         ids=["capitals", "one-long-word"])
def test_the_widest_text_at_every_limit_still_fits(name, words):
    """The documented limits hold for the shipped layouts even in wide stacked capitals."""
    limits = infographic.LIMITS
    data = InfographicData(
        title=_at_limit(words, limits["title"]),
        points=tuple(_at_limit(words, limits["points"]) for _ in range(infographic.MAX_POINTS)),
        affected=_at_limit(words, limits["affected"]), how_to_comment=_at_limit(words, limits["how_to_comment"]),
        deadline=_at_limit(words, limits["deadline"]), agency=_at_limit(words, limits["agency"]),
        logo=LOGO, qr_url="https://example.gov.vn/" + "a" * (limits["qr_url"] - 23))
    image, drawn = infographic.draw(infographic.load_layout(DIRS, name), data, report=True)
    assert image.size == SIZES[name] and len(drawn) > 20


def test_limits_are_enforced_with_clear_errors():
    layout = infographic.load_layout(DIRS, "vuong")
    with pytest.raises(InputError) as caught:
        infographic.draw(layout, replace(DATA, points=tuple(f"Điểm {i}" for i in range(6))))
    assert caught.value.key == "render.too_many_points" and "6" in str(caught.value)
    with pytest.raises(InputError) as caught:
        infographic.draw(layout, replace(DATA, title="Chính sách " * 30))
    assert caught.value.key == "render.too_long_field" and "title" in str(caught.value)
    with pytest.raises(InputError) as caught:
        infographic.draw(layout, replace(DATA, title="   "))
    assert caught.value.key == "render.empty"
    with pytest.raises(InputError) as caught:
        infographic.render(DIRS, "vuong", DATA, fmt="gif")
    assert caught.value.key == "render.bad_format"


def test_no_points_leaves_the_points_block_and_its_label_out():
    layout = infographic.load_layout(DIRS, "vuong")
    _, drawn = infographic.draw(layout, replace(DATA, points=()), report=True)
    assert not {"diem-chinh", "nhan-diem-chinh"} & {d.block for d in drawn}


# --- bad layout files ---------------------------------------------------------------------------------

BAD = [
    ("syntax", lambda s: s + "\n[[blocks]\n", "layout.syntax", ["TOML"]),
    ("unknown top key", lambda s: s + "\n[extra]\na = 1\n", "layout.unknown_key", ["extra"]),
    ("unknown block key", lambda s: s.replace('colour = "#FFFFFF"', 'color = "#FFFFFF"'), "layout.unknown_key",
     ["blocks.tieu-de.color"]),
    ("wrong type", lambda s: s.replace("x = 20", 'x = "20"'), "layout.not_integer", ["blocks.tieu-de.x"]),
    ("bad size range", lambda s: s.replace("size = [12, 30]", "size = [30, 12]"), "layout.bad_size",
     ["blocks.tieu-de.size"]),
    ("outside the canvas", lambda s: s.replace("w = 360", "w = 500"), "layout.outside", ["tieu-de", "400×300"]),
    ("overlap", lambda s: s.replace("y = 100", "y = 50"), "layout.overlap", ["ma-qr", "tieu-de"]),
    ("unknown font", lambda s: s.replace("BeVietnamPro-Bold.ttf", "Arial.ttf"), "layout.unknown_font",
     ["blocks.tieu-de.font", "Arial.ttf"]),
    ("unknown field", lambda s: s.replace('field = "title"', 'field = "tittle"'), "layout.unknown_field",
     ["blocks.tieu-de.field", "tittle"]),
    ("field of another kind", lambda s: s.replace('field = "title"', 'field = "points"'), "layout.unknown_field",
     ["blocks.tieu-de.field"]),
    ("bad colour", lambda s: s.replace('colour = "#FFFFFF"', 'colour = "trắng"'), "layout.bad_colour",
     ["blocks.tieu-de.colour", "chinh"]),
    ("unknown kind", lambda s: s.replace('kind = "qr"', 'kind = "circle"'), "layout.bad_choice",
     ["blocks.ma-qr.kind"]),
    ("missing canvas size", lambda s: s.replace("width = 400\n", ""), "layout.required", ["canvas.width"]),
    ("duplicate name", lambda s: s.replace('name = "ma-qr"', 'name = "nen"'), "layout.duplicate_block", ["nen"]),
    ("field and text", lambda s: s.replace('field = "title"', 'field = "title"\ntext = "Nhãn"'),
     "layout.field_or_text", ["blocks.tieu-de"]),
    ("no blocks", lambda s: s.split("[[blocks]]")[0], "layout.not_blocks", ["blocks"]),
]


@pytest.mark.parametrize(("mutate", "key", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_layout_names_the_file_and_the_key(tmp_path, mutate, key, expected):
    with pytest.raises(InputError) as caught:
        _draw_user(tmp_path, mutate(MINIMAL))
    message = str(caught.value)
    assert caught.value.key == key
    assert "thu.toml" in message
    for part in expected:
        assert part in message


def test_minimal_layout_is_valid(tmp_path):
    assert _draw_user(tmp_path, MINIMAL).size == (400, 300)


def test_unknown_layout_lists_the_available_ones():
    with pytest.raises(InputError) as caught:
        infographic.render(DIRS, "khong-co", DATA)
    assert caught.value.key == "layout.not_found" and "vuong" in str(caught.value)


def test_user_folder_overrides_the_builtin_layout(tmp_path):
    builtin = (BUILTIN / "infographics" / "vuong.toml").read_text(encoding="utf-8")
    changed = builtin.replace('chinh = "#0D3B7A"', 'chinh = "#8B1A1A"')
    assert changed != builtin
    folder = _user_layout(tmp_path, changed, "vuong")
    _user_layout(tmp_path, MINIMAL, "rieng")
    assert {"vuong", "doc", "the-lien-ket", "rieng"} <= set(infographic.available((folder, BUILTIN)))
    mine = Image.open(io.BytesIO(infographic.render((folder, BUILTIN), "vuong", DATA)))
    assert mine.getpixel((5, 5)) == (0x8B, 0x1A, 0x1A)
    shipped = Image.open(io.BytesIO(infographic.render(DIRS, "vuong", DATA)))
    assert shipped.getpixel((5, 5)) == (0x0D, 0x3B, 0x7A)


# --- fonts --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def latin_font(tmp_path_factory) -> Path:
    """Be Vietnam Pro cut down to ASCII with fontTools: a real font that lacks Vietnamese letters."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path = tmp_path_factory.mktemp("font") / "LatinOnly.ttf"
    face = TTFont(resources.assets() / "fonts" / "BeVietnamPro-Regular.ttf")
    subsetter = subset.Subsetter(subset.Options())
    subsetter.populate(unicodes=range(0x20, 0x7F))
    subsetter.subset(face)
    face.save(path)
    return path


def test_a_font_without_vietnamese_is_refused_naming_the_characters(tmp_path, latin_font):
    layout = MINIMAL.replace("fonts/BeVietnamPro-Bold.ttf", latin_font.as_posix())
    with pytest.raises(InputError) as caught:
        _draw_user(tmp_path, layout, replace(DATA, title="Kế hoạch"))
    message = str(caught.value)
    assert caught.value.key == "render.missing_glyphs"
    assert "LatinOnly.ttf" in message and "'ế'" in message and "U+1EBF" in message and "tieu-de" in message
    assert _draw_user(tmp_path, layout, replace(DATA, title="Ke hoach")).size == (400, 300)  # ASCII is fine


def test_coverage_of_the_shipped_fonts():
    for name in ("Regular", "SemiBold", "Bold"):
        rel = f"fonts/BeVietnamPro-{name}.ttf"
        vietnamese = "ẤỂỖẶỮĐàáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ“”–…%"
        assert fonts.missing_glyphs(rel, vietnamese + vietnamese.upper()) == []
        assert fonts.missing_glyphs(rel, "Đ\U0010FFFD漢") == ["漢", "\U0010FFFD"]


# --- logo and QR --------------------------------------------------------------------------------------

def test_logo_keeps_its_aspect_ratio_and_none_leaves_the_block_empty(tmp_path):
    wide = tmp_path / "rong.png"
    Image.new("RGBA", (300, 100), (200, 30, 30, 255)).save(wide)
    layout = infographic.load_layout(DIRS, "vuong")
    block = next(b for b in layout.blocks if b.kind == "logo")
    _, drawn = infographic.draw(layout, replace(DATA, logo=wide), report=True)
    (logo,) = [d for d in drawn if d.kind == "logo"]
    left, top, right, bottom = logo.box
    assert (right - left, bottom - top) == (block.w, block.w // 3)
    assert block.x <= left and right <= block.x + block.w and block.y <= top and bottom <= block.y + block.h
    image, drawn = infographic.draw(layout, replace(DATA, logo=None), report=True)
    assert not [d for d in drawn if d.kind == "logo"]
    area = image.crop((block.x, block.y, block.x + block.w, block.y + block.h))
    assert area.getcolors() == [(block.w * block.h, (0x0D, 0x3B, 0x7A))]  # just the header band
    with pytest.raises(InputError) as caught:
        infographic.draw(layout, replace(DATA, logo=tmp_path / "khong-co.png"))
    assert caught.value.key == "render.bad_logo"


def test_placeholder_logo_is_a_small_transparent_png():
    with Image.open(LOGO) as logo:
        assert logo.format == "PNG" and logo.mode == "RGBA" and logo.size == (256, 256)
        assert logo.getpixel((0, 0))[3] == 0  # transparent corner: a round emblem


def _read_modules(image: Image.Image, box: tuple[int, int, int, int], quiet: int, n: int) -> list[list[bool]]:
    left, top, right, _ = box
    module = (right - left) // (n + 2 * quiet)
    assert module * (n + 2 * quiet) == right - left  # integer module size
    grey = image.convert("L")
    return [[grey.getpixel((left + (quiet + c) * module + module // 2, top + (quiet + r) * module + module // 2)) < 128
             for c in range(n)] for r in range(n)]


@pytest.mark.parametrize("name", sorted(SIZES))
def test_qr_code_is_crisp_and_encodes_the_url(name):
    layout = infographic.load_layout(DIRS, name)
    image, drawn = infographic.draw(layout, DATA, report=True)
    (qr,) = [d for d in drawn if d.kind == "qr"]
    expected = [[bool(bit) for bit in row] for row in segno.make(URL, error="m", micro=False,
                                                                 boost_error=False).matrix]
    assert _read_modules(image, qr.box, 4, len(expected)) == expected
    crop = image.crop(qr.box).convert("L")
    assert set(crop.histogram()[80:241]) == {0}  # no blurred grey edges


@pytest.mark.parametrize("name", sorted(SIZES))
def test_qr_decodes_back_to_the_url_when_a_decoder_is_installed(tmp_path, name):
    """Optional: zbar (``apt-get install zbar-tools``) or pyzbar; the module test above always runs."""
    png = infographic.render(DIRS, name, DATA)
    try:
        from pyzbar import pyzbar
    except ImportError:
        zbarimg = shutil.which("zbarimg")
        if zbarimg is None:
            pytest.skip("no QR decoder installed (optional: zbar-tools or pyzbar)")
        (tmp_path / "qr.png").write_bytes(png)
        found = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "qr.png")],
                               capture_output=True, text=True, timeout=60).stdout.split()
    else:
        found = [r.data.decode() for r in pyzbar.decode(Image.open(io.BytesIO(png)))]
    assert found == [URL]


def test_no_url_leaves_the_qr_block_and_its_label_out_and_a_dense_code_is_refused(tmp_path):
    layout = infographic.load_layout(DIRS, "vuong")
    _, drawn = infographic.draw(layout, replace(DATA, qr_url=None), report=True)
    assert not {"ma-qr", "nhan-qr"} & {d.block for d in drawn}
    small = MINIMAL.replace("w = 100\nh = 100", "w = 60\nh = 60")
    with pytest.raises(InputError) as caught:
        _draw_user(tmp_path, small, replace(DATA, qr_url=URL + "/" + "x" * 100))
    assert caught.value.key == "render.qr_too_dense" and "ma-qr" in str(caught.value)
