"""Property test: any Vietnamese text within the documented limits fits every shipped layout cleanly.

For random titles, key points and other fields (Vietnamese syllables in lower
case, Title Case and CAPITALS, with stacked accents such as "Ấ Ể Ỗ ặ ữ đ"),
each layout draws without error and, from the draw report (boxes measured by
Pillow's ``textbbox`` of what was drawn):

* every drawn box lies inside its block and inside the canvas;
* the content blocks never overlap;
* every drawn character has a glyph in its font (no tofu);
* no text is lost: the drawn lines put back together are the text.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher import resources
from publisher.render import fonts, infographic
from publisher.render.infographic import LIMITS, MAX_POINTS, InfographicData

DIRS = (resources.builtin_templates(),)
LAYOUTS = ("vuong", "the-lien-ket", "doc")
LOGO = resources.assets() / "logos" / "logo-mau.png"

SYLLABLES = (
    "chính sách nghị quyết hỗ trợ học phí cho học sinh vùng khó khăn người dân được hưởng quyền lợi "
    "ủy ban nhân dân tỉnh huyện xã phường thị trấn đồng bào dân tộc thiểu số miền núi biên giới hải đảo "
    "góp ý kiến dự thảo văn bản quy phạm pháp luật kế hoạch đề án truyền thông tác động lớn xã hội "
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý "
    "ấy để ỗ ặ ữ đ ưỡng nghĩa khuyến khích doanh nghiệp nhỏ vừa thuế phí lệ phí miễn giảm "
    "năm tháng ngày hết hạn trước sau trong ngoài theo quy định điều khoản mục 70% 2026 06/KH-UBND"
).split()


def _case(word: str, style: int) -> str:
    return (word, word.capitalize(), word.upper())[style]


WORD = st.builds(_case, st.sampled_from(SYLLABLES), st.sampled_from((0, 0, 0, 1, 1, 2)))


def _text(limit: int, min_words: int = 1) -> st.SearchStrategy[str]:
    """Words joined by spaces, cut to *limit* characters (a word may be cut, as a person's typing may)."""
    return st.lists(WORD, min_size=min_words, max_size=limit // 2).map(lambda ws: " ".join(ws)[:limit].strip())


URL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-/", max_size=LIMITS["qr_url"] - 23).map(
    lambda path: "https://example.gov.vn/" + path)

DATA = st.builds(
    InfographicData,
    title=_text(LIMITS["title"]),
    points=st.lists(_text(LIMITS["points"]), min_size=0, max_size=MAX_POINTS).map(tuple),
    affected=_text(LIMITS["affected"]),
    how_to_comment=_text(LIMITS["how_to_comment"]),
    deadline=_text(LIMITS["deadline"]),
    agency=_text(LIMITS["agency"]),
    logo=st.sampled_from((LOGO, None)),
    qr_url=st.one_of(st.none(), URL),
)


TEXT_FIELDS = ("title", "affected", "how_to_comment", "deadline", "agency")


def _fill(text: str, limit: int) -> str:
    return " ".join([text] * (limit // (len(text) + 1) + 1))[:limit].strip()


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=DATA, longest=st.booleans())
def test_any_text_within_the_limits_fits_cleanly(name, data, longest):
    if longest:  # repeat every text up to its limit: the hardest case for the layout
        data = replace(data, points=tuple(_fill(p, LIMITS["points"]) for p in data.points),
                       **{f: _fill(getattr(data, f), LIMITS[f]) for f in TEXT_FIELDS})
    layout = infographic.load_layout(DIRS, name)
    image, drawn = infographic.draw(layout, data, report=True)
    assert image.size == (layout.width, layout.height)

    blocks = {b.name: b for b in layout.blocks}
    for item in drawn:
        block = blocks[item.block]
        left, top, right, bottom = item.box
        assert block.x <= left and right <= block.x + block.w, (item, block.box)
        assert block.y <= top and bottom <= block.y + block.h, (item, block.box)
        assert 0 <= left and 0 <= top and right <= layout.width and bottom <= layout.height
        if item.text:
            assert fonts.missing_glyphs(item.font, item.text) == [], item

    content = [b for b in layout.blocks if b.kind != "rect"]
    for i, a in enumerate(content):
        for b in content[i + 1:]:
            assert not (a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h), (a.name, b.name)

    clean = infographic.clean(data)
    for block in layout.blocks:
        runs = [d.text for d in drawn if d.block == block.name and d.kind == "text"]
        if block.kind == "text" and block.field:
            expected = getattr(clean, block.field)
            expected = expected.upper() if block.uppercase else expected
            assert _squash("".join(runs)) == _squash(expected), block.name
        elif block.kind == "points":
            assert _squash("".join(runs)) == _squash("".join(clean.points)), block.name
            assert len([d for d in drawn if d.block == block.name and d.kind == "bullet"]) == len(clean.points)
