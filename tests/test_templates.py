"""The built-in post templates, the Vietnamese filters, HTML sanitising and template errors.

Every built-in template is rendered in both formats with a realistic policy whose
dates are set relative to a fixed ``TODAY``; portal output is parsed with
``html.parser`` to prove that no injected markup survives.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from publisher import i18n, resources
from publisher.errors import InputError
from publisher.render import text

BUILTIN = resources.builtin_templates().resolve()
TODAY = date(2026, 12, 28)
AGENCY = {"code": "tinh", "name": "Ủy ban nhân dân tỉnh Thử Nghiệm"}
TITLE = "Nghị quyết quy định mức hỗ trợ học phí cho học sinh vùng đặc biệt khó khăn"
URL = "https://tinh.example.gov.vn/du-thao/12"
KEY_POINTS = ["Miễn 100% học phí cho học sinh người dân tộc thiểu số",
              "Hỗ trợ 50% học phí cho học sinh thuộc hộ cận nghèo",
              "Áp dụng từ năm học 2027 - 2028"]
TEMPLATES = ["moi-gop-y", "nhac-han-gop-y", "thong-qua", "ban-hanh", "thong-tin"]
FORMATS = ["facebook", "portal"]
#: Variables some templates need or accept.
VARIABLES = {"noi_dung": "Ủy ban nhân dân tỉnh thông báo kết quả lấy ý kiến.\n\nTrân trọng."}
HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")


def _policy(**changes: object) -> dict:
    """A policy as posts.py gives it to templates, with the three coming fields."""
    policy = {
        "id": 1, "agency": "tinh", "code": "12/2026/NQ-HĐND", "title": TITLE,
        "summary": "Hỗ trợ học phí cho học sinh vùng đặc biệt khó khăn trên địa bàn tỉnh từ năm học 2027 - 2028.",
        "impact": "high",
        "consultation_opens": TODAY - timedelta(days=27), "consultation_closes": TODAY + timedelta(days=3),
        "passed_on": TODAY + timedelta(days=13), "issued_on": TODAY + timedelta(days=18),
        "draft_url": URL, "created_by": "bien-tap", "created_at": datetime(2026, 11, 20, 1, tzinfo=timezone.utc),
        "key_points": list(KEY_POINTS),
        "affected": "Học sinh, phụ huynh học sinh tại các xã đặc biệt khó khăn",
        "comment_how": "Gửi ý kiến trên Trang Thông tin điện tử hoặc tại Ủy ban nhân dân xã.",
    }
    policy.update(changes)
    return policy


def _bare_policy() -> dict:
    """Today's stored policy: no key_points/affected/comment_how keys, optional dates unset."""
    policy = _policy(passed_on=None, issued_on=None, draft_url=None, consultation_opens=None)
    for key in ("key_points", "affected", "comment_how"):
        del policy[key]
    return policy


def _context(policy: dict | None = None, today: object = TODAY, **variables: object) -> dict:
    context = {**VARIABLES, **variables, "policy": policy if policy is not None else _policy(),
               "agency": AGENCY, "channel": "fanpage"}
    if today is not None:
        context["today"] = today
    return context


def _render(name: str, fmt: str, context: dict | None = None, dirs: tuple[Path, ...] = (BUILTIN,)) -> tuple[str, str]:
    return text.render(dirs, name, fmt, context if context is not None else _context())


def _user_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    (folder / "posts").mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / "posts" / name).write_text(source, encoding="utf-8")
    return folder


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _scheme(url: str) -> str:
    """The scheme a browser would see (WHATWG URL: C0 controls and spaces trimmed, tabs and newlines dropped)."""
    cleaned = url.strip("".join(map(chr, range(0x21)))).replace("\t", "").replace("\n", "").replace("\r", "")
    found = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", cleaned)
    return found.group(1).lower() if found else ""  # no scheme: a relative URL


def assert_inert(html: str) -> None:
    """No executable markup: only allowed tags, no on* attributes, no dangerous URLs."""
    parsed = _parse(html)
    assert parsed.comments == []
    for tag, attrs in parsed.tags:
        assert tag in text.ALLOWED_TAGS, (tag, html)
        assert tag not in {"script", "svg", "iframe", "object", "embed", "style", "math", "form", "base", "meta"}
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name in text.ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name, html)
            if name in {"href", "src"}:
                assert _scheme(value or "") in {"", "http", "https", "mailto"}, (tag, value, html)
        if tag == "a" and "href" in attrs:
            assert attrs.get("rel") == "noopener noreferrer"


# --- every built-in template × format ----------------------------------------

def test_the_builtin_templates_are_the_campaign_moments():
    assert text.available((BUILTIN,)) == sorted(TEMPLATES)
    for name in TEMPLATES:
        for fmt in FORMATS:
            assert text.template_name((BUILTIN,), name, fmt), (name, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("policy_kind", ["full", "bare"])
def test_every_builtin_template_renders_clean_output(name, fmt, policy_kind):
    policy = _policy() if policy_kind == "full" else _bare_policy()
    title, body = _render(name, fmt, _context(policy))
    for part in (title, body):
        assert unicodedata.is_normalized("NFC", part)
        assert "None" not in part and "Undefined" not in part
        assert "{{" not in part and "{%" not in part and "{#" not in part and "#}" not in part
        for line in part.splitlines():
            assert line == line.strip() and "  " not in line, repr(line)  # no stray spaces from the template
    assert title and title == title.strip() and "\n" not in title
    assert not HTML_TAG.search(title)  # a title is plain text in both formats
    assert body.endswith("\n") and not body.endswith("\n\n")
    assert "\n\n\n" not in body  # at most one blank line between blocks
    if fmt == "facebook":
        assert not HTML_TAG.search(body), body
        assert "&lt;" not in body and "&amp;" not in body
        assert "#TruyenThongChinhSach" in body
        assert len(body) < 2_000  # far below the Graph limit for a realistic policy
        assert (URL in body) == (policy_kind == "full")
    else:
        assert body.startswith("<p>") or body.startswith("<h2>")
        assert_inert(body)
        assert (f'<a href="{URL}" rel="noopener noreferrer">' in body) == (policy_kind == "full")
    assert "Nghị quyết quy định mức hỗ trợ học phí" in title + body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["moi-gop-y", "nhac-han-gop-y", "thong-qua", "ban-hanh"])
def test_key_points_affected_and_how_to_comment_are_shown(name, fmt):
    _, body = _render(name, fmt)
    if fmt == "portal":
        assert "<ul>\n" + "\n".join(f"<li>{p}</li>" for p in KEY_POINTS) + "\n</ul>" in body
    else:
        for point in KEY_POINTS:
            assert f"• {point}\n" in body
    if name != "nhac-han-gop-y" or fmt == "portal":
        assert "Học sinh, phụ huynh học sinh tại các xã đặc biệt khó khăn" in body
    if name in ("moi-gop-y", "nhac-han-gop-y"):
        assert "Gửi ý kiến trên Trang Thông tin điện tử hoặc tại Ủy ban nhân dân xã." in body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["moi-gop-y", "nhac-han-gop-y", "thong-qua", "ban-hanh"])
@pytest.mark.parametrize("points", [[], None, ["", "   ", None]])
def test_no_key_points_means_no_list(name, fmt, points):
    _, body = _render(name, fmt, _context(_policy(key_points=points, affected=None, comment_how="  ")))
    assert "<ul>" not in body and "<li>" not in body and "•" not in body
    assert "Nội dung chính" not in body
    assert "Đối tượng" not in body and "Cách góp ý" not in body
    assert "None" not in body


def test_blank_key_points_are_skipped():
    _, body = _render("moi-gop-y", "portal", _context(_policy(key_points=["  Một  ", "", None, "Hai"])))
    assert "<ul>\n<li>Một</li>\n<li>Hai</li>\n</ul>" in body


# --- each moment ----------------------------------------------------------------

def test_moi_gop_y():
    title, fb = _render("moi-gop-y", "facebook")
    assert title == TITLE
    assert fb.startswith("📢 MỜI GÓP Ý DỰ THẢO CHÍNH SÁCH\n\n")
    assert "Ủy ban nhân dân tỉnh Thử Nghiệm trân trọng mời Nhân dân, tổ chức, doanh nghiệp góp ý" in fb
    assert "Thời hạn góp ý: đến hết ngày 31 tháng 12 năm 2026." in fb
    assert f"Xem dự thảo và gửi ý kiến tại: {URL}" in fb
    assert "#GopYDuThao" in fb
    title, portal = _render("moi-gop-y", "portal")
    assert title == f"Mời góp ý dự thảo: {TITLE}"
    assert f"<strong>{TITLE}</strong>" in portal
    assert "từ ngày 01 tháng 12 năm 2026 đến hết ngày 31 tháng 12 năm 2026" in portal


def test_moi_gop_y_with_only_a_closing_date():
    _, portal = _render("moi-gop-y", "portal", _context(_policy(consultation_opens=None)))
    assert "Thời gian lấy ý kiến" not in portal
    assert "<strong>Thời hạn góp ý:</strong> đến hết ngày 31 tháng 12 năm 2026." in portal


@pytest.mark.parametrize("days, heading, sentence, phrase, title_start", [
    (3, "🔔 NHẮC HẠN GÓP Ý", "Chỉ còn 3 ngày để góp ý", "(còn 3 ngày)", "Chỉ còn 3 ngày để góp ý dự thảo: "),
    (30, "🔔 NHẮC HẠN GÓP Ý", "Chỉ còn 30 ngày để góp ý", "(còn 30 ngày)", "Chỉ còn 30 ngày để góp ý dự thảo: "),
    (1, "🔔 NHẮC HẠN GÓP Ý", "Ngày mai là ngày cuối để góp ý", "(ngày mai là ngày cuối)",
     "Ngày mai là ngày cuối góp ý dự thảo: "),
    (0, "🔔 NHẮC HẠN GÓP Ý", "Hôm nay là ngày cuối để góp ý", "(hôm nay là ngày cuối)",
     "Hôm nay là ngày cuối góp ý dự thảo: "),
    (-2, "✅ ĐÃ KẾT THÚC LẤY Ý KIẾN", "đã kết thúc vào ngày", None, "Đã kết thúc lấy ý kiến dự thảo: "),
])
def test_nhac_han_gop_y_counts_the_days_from_today(days, heading, sentence, phrase, title_start):
    closes = TODAY + timedelta(days=days)
    context = _context(_policy(consultation_closes=closes))
    _, fb = _render("nhac-han-gop-y", "facebook", context)
    title, portal = _render("nhac-han-gop-y", "portal", context)
    assert fb.startswith(heading)
    assert sentence in fb
    assert title == title_start + TITLE
    assert text.vn_date(closes) in fb and text.vn_date(closes) in portal
    if phrase:
        assert f"⏰ Hạn cuối: hết {text.vn_date(closes)} {phrase}." in fb
        assert "gửi ý kiến tại" in fb and "nơi gửi ý kiến" in portal
    else:  # after the deadline: thanks, and no invitation to send comments any more
        assert "trân trọng cảm ơn" in fb and "trân trọng cảm ơn" in portal
        assert "gửi ý kiến" not in fb and "nơi gửi ý kiến" not in portal
        assert "Xem dự thảo tại: " + URL in fb


def test_nhac_han_gop_y_counts_from_the_today_it_is_given():
    policy = _policy(consultation_closes=date(2027, 1, 2))
    _, body = _render("nhac-han-gop-y", "facebook", _context(policy, today=date(2026, 12, 30)))
    assert "Chỉ còn 3 ngày để góp ý" in body
    _, body = _render("nhac-han-gop-y", "facebook", _context(policy, today="2027-01-02"))  # text is read as ISO
    assert "Hôm nay là ngày cuối để góp ý" in body


def test_nhac_han_gop_y_without_a_closing_date_is_an_error_naming_the_line():
    with pytest.raises(InputError) as caught:
        _render("nhac-han-gop-y", "facebook", _context(_policy(consultation_closes=None)))
    err = caught.value
    assert err.key == "render.failed_at"
    assert "nhac-han-gop-y.facebook.txt" in str(err) and "con_lai" in str(err)
    source = (BUILTIN / "posts" / "nhac-han-gop-y.facebook.txt").read_text(encoding="utf-8").splitlines()
    assert "con_lai" in source[err.params["line"] - 1]


def test_thong_qua():
    title, fb = _render("thong-qua", "facebook")
    assert title == TITLE
    assert "Ngày 10 tháng 01 năm 2027, " + TITLE + " đã được thông qua." in fb
    assert "trân trọng cảm ơn Nhân dân, tổ chức, doanh nghiệp đã tham gia góp ý" in fb
    assert "#ChinhSachMoi" in fb
    title, portal = _render("thong-qua", "portal", _context(co_quan_thong_qua="Hội đồng nhân dân tỉnh"))
    assert title == "Thông qua " + TITLE
    assert f"<p>Ngày 10 tháng 01 năm 2027, Hội đồng nhân dân tỉnh đã thông qua <strong>{TITLE}</strong>.</p>" in portal


def test_thong_qua_without_a_date():
    _, fb = _render("thong-qua", "facebook", _context(_policy(passed_on=None)))
    assert f"\n{TITLE} đã được thông qua.\n" in fb and "Ngày" not in fb.split("\n")[2]


def test_ban_hanh_with_effect():
    context = _context(hieu_luc="2027-02-01", co_quan_ban_hanh="Hội đồng nhân dân tỉnh")
    title, fb = _render("ban-hanh", "facebook", context)
    assert title == TITLE
    assert (f"Ngày 15 tháng 01 năm 2027, Hội đồng nhân dân tỉnh đã ban hành {TITLE} (số 12/2026/NQ-HĐND)."
            in fb)
    assert "Văn bản có hiệu lực thi hành từ ngày 01 tháng 02 năm 2027." in fb
    assert f"Xem toàn văn tại: {URL}" in fb and "#VanBanMoi" in fb
    title, portal = _render("ban-hanh", "portal", context)
    assert title == "Ban hành " + TITLE
    assert "<p>Văn bản có hiệu lực thi hành từ <strong>ngày 01 tháng 02 năm 2027</strong>.</p>" in portal


def test_ban_hanh_without_effect_or_agency():
    _, fb = _render("ban-hanh", "facebook")
    assert f"Ngày 15 tháng 01 năm 2027, {TITLE} (số 12/2026/NQ-HĐND) đã được ban hành." in fb
    assert "hiệu lực" not in fb


def test_thong_tin_paragraphs():
    title, portal = _render("thong-tin", "portal", _context(noi_dung="Đoạn một,\ndòng hai.\r\n\r\n\nĐoạn ba."))
    assert title == TITLE
    assert portal.startswith("<p>Đoạn một,<br>\ndòng hai.</p>\n<p>Đoạn ba.</p>\n")
    _, fb = _render("thong-tin", "facebook", _context(noi_dung="Đoạn một.\n\nĐoạn hai."))
    assert "Đoạn một.\n\nĐoạn hai." in fb and "#TruyenThongChinhSach" in fb


def test_decomposed_input_gives_nfc_output_in_every_template():
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    policy = _policy(title=nfd(TITLE), summary=nfd("Hỗ trợ học phí."), key_points=[nfd(p) for p in KEY_POINTS])
    for name in TEMPLATES:
        for fmt in FORMATS:
            title, body = _render(name, fmt, _context(policy, noi_dung=nfd("Nội dung")))
            assert unicodedata.is_normalized("NFC", title) and unicodedata.is_normalized("NFC", body)
            assert "Nghị quyết" in title + body


# --- today -------------------------------------------------------------------------

def test_today_defaults_to_the_utc_date(monkeypatch):
    monkeypatch.setattr(text, "utcnow", lambda: datetime(2026, 12, 28, 23, 30, tzinfo=timezone.utc))
    context = _context(today=None)
    assert "today" not in context
    assert _render("nhac-han-gop-y", "portal", context) == _render("nhac-han-gop-y", "portal",
                                                                   _context(today=date(2026, 12, 28)))
    assert "today" not in context  # the caller's dict is left alone


def test_a_datetime_today_counts_as_its_date():
    _, body = _render("nhac-han-gop-y", "facebook", _context(today=datetime(2026, 12, 28, 23, 59)))
    assert "Chỉ còn 3 ngày" in body


# --- the filters -------------------------------------------------------------------

@pytest.mark.parametrize("deadline, days, phrase", [
    (date(2026, 11, 28), -30, "đã hết hạn"),
    (date(2026, 12, 27), -1, "đã hết hạn"),
    (date(2026, 12, 28), 0, "hôm nay là ngày cuối"),
    (date(2026, 12, 29), 1, "ngày mai là ngày cuối"),
    (date(2026, 12, 30), 2, "còn 2 ngày"),
    (date(2027, 1, 1), 4, "còn 4 ngày"),  # across the new year
    (date(2027, 12, 28), 365, "còn 365 ngày"),
    (datetime(2026, 12, 31, 0, 1), 3, "còn 3 ngày"),  # a datetime counts as its day
    ("2026-12-31", 3, "còn 3 ngày"),  # --var text
])
def test_con_lai_and_han_across_boundaries(tmp_path, deadline, days, phrase):
    assert text.days_left(deadline, TODAY) == days
    assert text.deadline_phrase(deadline, TODAY) == phrase
    user = _user_dir(tmp_path, {"loc.facebook.txt": "{{ d | con_lai }}|{{ d | han }}|{{ (d | con_lai) + 1 }}\n"})
    _, body = text.render((user,), "loc", "facebook", _context(d=deadline))
    assert body == f"{days}|{phrase}|{days + 1}\n"  # con_lai is a number templates can compute with


def test_leap_day_and_month_ends():
    assert text.days_left(date(2028, 3, 1), date(2028, 2, 28)) == 2
    assert text.days_left(date(2027, 3, 1), date(2027, 2, 28)) == 1
    assert text.deadline_phrase(date(2027, 3, 1), date(2027, 2, 28)) == "ngày mai là ngày cuối"


def test_filters_take_an_explicit_start_date(tmp_path):
    user = _user_dir(tmp_path, {"loc.facebook.txt": "{{ d | con_lai(tu) }} {{ d | han(tu) }}\n"})
    _, body = text.render((user,), "loc", "facebook", _context(d=date(2027, 1, 10), tu=date(2027, 1, 1)))
    assert body == "9 còn 9 ngày\n"


def test_han_of_no_date_is_empty_and_con_lai_of_no_date_is_an_error(tmp_path):
    user = _user_dir(tmp_path, {"han.facebook.txt": "[{{ d | han }}]\n",
                                "con.facebook.txt": "dòng 1\n{{ d | con_lai }}\n"})
    assert text.render((user,), "han", "facebook", _context(d=None))[1] == "[]\n"
    with pytest.raises(InputError) as caught:
        text.render((user,), "con", "facebook", _context(d=None))
    assert caught.value.key == "render.failed_at" and caught.value.params["line"] == 2


@pytest.mark.parametrize("value", ["ngày mai", "31/12/2026", 3])
def test_filters_refuse_what_is_not_a_date(tmp_path, value):
    user = _user_dir(tmp_path, {"sai.facebook.txt": "{{ d | han }}\n"})
    with pytest.raises(InputError) as caught:
        text.render((user,), "sai", "facebook", _context(d=value))
    assert caught.value.key == "render.failed_at" and "sai.facebook.txt" in str(caught.value)


def test_doan_escapes_and_splits_in_html_and_does_nothing_in_text(tmp_path):
    user = _user_dir(tmp_path, {"d.portal.html": "{{ x | doan }}\n", "d.facebook.txt": "{{ x | doan }}\n"})
    source = "A & <b>B</b>\nC\n\n\nD"
    expected = "<p>A &amp; &lt;b&gt;B&lt;/b&gt;<br>\nC</p>\n<p>D</p>\n"
    assert text.render((user,), "d", "portal", _context(x=source))[1] == expected
    assert text.render((user,), "d", "facebook", _context(x=source))[1] == source + "\n"
    assert text.render((user,), "d", "portal", _context(x=None))[1] == "\n"


# --- HTML injection -------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)></iframe>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    " java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<a href=\"javascript:alert(1)\">bấm vào đây</a>",
    "<style>body{display:none}</style><p style=x onclick=alert(1)>x</p>",
    "<!-- <script>alert(1)</script> -->",
    "</textarea><script>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "{{ 7 * 7 }}{% raw %}",
]
STRING_FIELDS = ["code", "title", "summary", "draft_url", "affected", "comment_how"]


def _poisoned(payload: str) -> dict:
    policy = _policy(**{f: payload for f in STRING_FIELDS}, key_points=[payload, "Điểm " + payload])
    return _context(policy, noi_dung=payload, tieu_de="Tin " + payload, co_quan_thong_qua=payload,
                    co_quan_ban_hanh=payload)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name", TEMPLATES)
def test_injection_in_every_field_is_inert_in_the_portal(name, payload):
    context = _poisoned(payload)
    context["agency"] = {"code": "tinh", "name": payload}
    title, body = _render(name, "portal", context)
    assert_inert(body)
    assert "<script" not in body.lower() and "<svg" not in body.lower() and "<iframe" not in body.lower()
    assert "49" not in body  # variables are data, never template code
    assert not re.search(r"<[A-Za-z/!?][^<>]*>", title), title  # the title is plain text


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_javascript_draft_url_is_never_a_link(name):
    context = _context(_policy(draft_url="javascript:alert(1)"))
    _, body = _render(name, "portal", context)
    for _tag, attrs in _parse(body).tags:
        assert "javascript" not in (attrs.get("href") or "").lower()


@pytest.mark.parametrize("payload", PAYLOADS[:4])
@pytest.mark.parametrize("name", TEMPLATES)
def test_facebook_shows_the_payload_as_plain_text(name, payload):
    """Facebook text is not HTML: nothing is escaped (Graph shows it as text)."""
    _, body = _render(name, "facebook", _poisoned(payload))
    assert "&lt;" not in body and "&amp;" not in body


def test_a_user_template_with_raw_script_is_stripped(tmp_path):
    user = _user_dir(tmp_path, {"sua.portal.html": (
        "<script>alert('sửa tay')</script>\n"
        "<p onclick=\"alert(1)\" style=\"color:red\">Xin chào <em>bà con</em></p>\n"
        "<!-- ghi chú nội bộ -->\n"
        "<iframe src=\"https://evil.example\"></iframe>\n"
        "<svg><script>alert(2)</script></svg>\n"
        "<a href=\"javascript:alert(3)\">nguy hiểm</a>\n"
        "<a href=\"https://tinh.example.gov.vn/\" target=\"_blank\" title=\"Cổng\">an toàn</a>\n"
        "<a href=\"mailto:gopy@tinh.example.gov.vn\">thư</a>\n"
        "<img src=\"https://tinh.example.gov.vn/a.png\" alt=\"ảnh\" onerror=\"alert(4)\">\n"
        "<img src=\"data:image/png;base64,AAAA\" alt=\"dữ liệu\">\n"
        "<form action=\"https://evil.example\"><input name=\"x\"></form>\n"
        "<h2>Mục</h2><ul><li>một</li></ul><blockquote>trích</blockquote>\n"
    )})
    _, body = text.render((user,), "sua", "portal", _context())
    assert_inert(body)
    assert "alert" not in body and "ghi chú nội bộ" not in body and "evil" not in body
    assert "<p>Xin chào <em>bà con</em></p>" in body
    assert '<a rel="noopener noreferrer">nguy hiểm</a>' in body
    assert '<a href="https://tinh.example.gov.vn/" title="Cổng" rel="noopener noreferrer">an toàn</a>' in body
    assert '<a href="mailto:gopy@tinh.example.gov.vn" rel="noopener noreferrer">thư</a>' in body
    assert '<img src="https://tinh.example.gov.vn/a.png" alt="ảnh">' in body
    assert '<img alt="dữ liệu">' in body
    assert "<h2>Mục</h2><ul><li>một</li></ul><blockquote>trích</blockquote>" in body


def test_sanitising_does_not_apply_to_facebook_text(tmp_path):
    user = _user_dir(tmp_path, {"sua.facebook.txt": "<b>đậm</b> & <script>x</script>\n"})
    _, body = text.render((user,), "sua", "facebook", _context())
    assert body == "<b>đậm</b> & <script>x</script>\n"


@pytest.mark.parametrize("source, expected", [
    ("{% set title %}<em>Tin nóng</em>: {{ policy.title }}{% endset %}<p>x</p>\n", "Tin nóng: " + TITLE),
    ('{% set title = "<b>Tin</b> " ~ policy.title %}<p>x</p>\n', "Tin " + TITLE),
    ("{% set title %}  Dòng một\n  dòng hai  {% endset %}<p>x</p>\n", "Dòng một dòng hai"),
])
def test_a_portal_title_is_plain_text(tmp_path, source, expected):
    user = _user_dir(tmp_path, {"t.portal.html": source})
    title, _ = text.render((user,), "t", "portal", _context())
    assert title == expected


@pytest.mark.parametrize("policy_title, expected", [
    ("<script>alert(1)</script>Học phí", "alert(1)Học phí"),
    ("<<b>script>Học phí", "Học phí"),
    ("Phí & lệ phí: a < b, c > d", "Phí & lệ phí: a < b, c > d"),
])
def test_tags_in_the_policy_title_do_not_reach_the_portal_title(policy_title, expected):
    title, _ = _render("moi-gop-y", "portal", _context(_policy(title=policy_title)))
    assert title == "Mời góp ý dự thảo: " + expected


# --- errors name the file and the line ----------------------------------------------

def _error(tmp_path: Path, files: dict[str, str], name: str, fmt: str, **variables: object) -> InputError:
    user = _user_dir(tmp_path, files)
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), name, fmt, _context(**variables))
    return caught.value


@pytest.mark.parametrize("fmt, ext", [("facebook", "txt"), ("portal", "html")])
@pytest.mark.parametrize("source, key, line, needle", [
    ("dòng 1\ndòng 2\n{{ policy.title }\n", "render.syntax", 3, "}"),
    ("dòng 1\n{% if %}\n", "render.syntax", 2, ""),
    ("dòng 1\ndòng 2\nKính gửi {{ nguoi_nhan }}.\n", "render.undefined_at", 3, "nguoi_nhan"),
    ("dòng 1\n{% if policy.title %}\n\n{{ policy.so_hieu }}\n{% endif %}\n", "render.undefined_at", 4, "so_hieu"),
    ("dòng 1\n{% for x in danh_sach %}{{ x }}{% endfor %}\n", "render.undefined_at", 2, "danh_sach"),
    ("dòng 1\ndòng 2\n{{ policy.title | khong_co }}\n", "render.syntax", 3, "khong_co"),
    ("{% if policy.title %}\ndòng 2\n{{ policy.title | khong_co }}\n{% endif %}\n", "render.failed_at", 3, "khong_co"),
    ("dòng 1\ndòng 2\n{{ policy.title is khong_co }}\n", "render.syntax", 3, "khong_co"),
    ("dòng 1\n{% if policy.title is khong_co %}x{% endif %}\n", "render.failed_at", 2, "khong_co"),
    ("dòng 1\n\n{{ policy.title | ngay }}\n", "render.failed_at", 3, "ngay"),
    ("dòng 1\n{{ 1 / 0 }}\n", "render.failed_at", 2, "ZeroDivisionError"),
    ("dòng 1\n{% include 'posts/khong-co.txt' %}\n", "render.failed_at", 2, "khong-co.txt"),
])
def test_template_errors_name_the_file_and_the_line(tmp_path, fmt, ext, source, key, line, needle):
    err = _error(tmp_path, {f"hong.{fmt}.{ext}": source}, "hong", fmt)
    assert err.key == key
    assert err.params["line"] == line
    message = str(err)
    assert f"hong.{fmt}.{ext}" in message and f"dòng {line}" in message and needle in message
    i18n.set_language("en")
    assert f"line {line}" in str(err) and f"hong.{fmt}.{ext}" in str(err)


def test_an_error_in_an_included_file_names_that_file_and_its_line(tmp_path):
    err = _error(tmp_path, {"chinh.facebook.txt": "mở đầu\n{% include 'posts/phan.txt' %}\n",
                            "phan.txt": "một\nhai\nba {{ bien_thieu }}\n"}, "chinh", "facebook")
    assert err.key == "render.undefined_at"
    assert err.params["line"] == 3 and err.params["file"].endswith("phan.txt")
    assert "bien_thieu" in str(err)


def test_an_error_in_a_builtin_template_names_the_builtin_file():
    with pytest.raises(InputError) as caught:
        _render("thong-tin", "portal", {"policy": _policy(), "agency": AGENCY, "channel": "c", "today": TODAY})
    err = caught.value
    assert err.key == "render.undefined_at"
    assert err.params["file"] == str(BUILTIN / "posts" / "thong-tin.portal.html")
    source = (BUILTIN / "posts" / "thong-tin.portal.html").read_text(encoding="utf-8").splitlines()
    assert "noi_dung" in source[err.params["line"] - 1]
    assert "--var" in str(err)


# --- length -----------------------------------------------------------------------------

def test_facebook_length_limit_is_an_error_naming_the_template():
    long_summary = "Nội dung dự thảo rất dài. " * 3_000  # 78,000 characters
    context = _context(_policy(summary=long_summary))
    with pytest.raises(InputError) as caught:
        _render("moi-gop-y", "facebook", context)
    err = caught.value
    assert err.key == "render.too_long"
    assert err.params["limit"] == text.LIMITS["facebook"] and err.params["length"] > text.LIMITS["facebook"]
    assert "moi-gop-y.facebook.txt" in str(err)
    _, portal = _render("moi-gop-y", "portal", context)  # the portal takes long articles
    assert len(portal) > text.LIMITS["facebook"]


def test_length_is_measured_after_sanitising(tmp_path):
    limit = text.LIMITS["portal"]
    user = _user_dir(tmp_path, {"dai.portal.html": "<script>{{ rac }}</script>{{ noi_dung }}\n"})
    _, body = text.render((user,), "dai", "portal", _context(rac="x" * limit, noi_dung="ngắn"))
    assert body == "ngắn\n"
