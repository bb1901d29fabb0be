"""publisher.render.text: Jinja2 templates to (title, body), strict, NFC, escaped where HTML."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from publisher import resources
from publisher.errors import InputError
from publisher.models import Impact, Policy
from publisher.render import text

BUILTIN = resources.builtin_templates().resolve()
AGENCY = {"code": "tinh", "name": "Ủy ban nhân dân tỉnh Thử Nghiệm"}


def _policy(**changes: object) -> dict:
    """A policy as posts.py hands it to templates: asdict() of the stored record."""
    policy = Policy(
        id=1, agency="tinh", code="12/2026/NQ-HĐND",
        title="Nghị quyết quy định mức hỗ trợ học phí",
        summary="Hỗ trợ học phí cho học sinh vùng đặc biệt khó khăn trên địa bàn tỉnh.",
        impact=Impact.HIGH,
        consultation_opens=date(2026, 12, 1), consultation_closes=date(2026, 12, 31),
        draft_url="https://tinh.example.gov.vn/du-thao/12",
        created_by="bien-tap", created_at=datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc),
    )
    return {**asdict(policy), **changes}


def _context(**variables: object) -> dict:
    policy = variables.pop("policy", None) or _policy()
    return {**variables, "policy": policy, "channel": "fanpage", "agency": AGENCY}


def _user_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    (folder / "posts").mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / "posts" / name).write_text(source, encoding="utf-8")
    return folder


def _nfd(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value)
    assert decomposed != value  # the test input really is decomposed
    return decomposed


# --- the built-in templates --------------------------------------------------

def test_builtin_moi_gop_y_facebook():
    title, body = text.render((BUILTIN,), "moi-gop-y", "facebook", _context())
    assert title == "Nghị quyết quy định mức hỗ trợ học phí"
    assert "MỜI GÓP Ý DỰ THẢO CHÍNH SÁCH" in body
    assert "Ủy ban nhân dân tỉnh Thử Nghiệm trân trọng mời Nhân dân" in body
    assert "đề nghị xây dựng văn bản: Nghị quyết quy định mức hỗ trợ học phí." in body
    assert "Hỗ trợ học phí cho học sinh vùng đặc biệt khó khăn trên địa bàn tỉnh." in body
    assert "Thời hạn góp ý: đến hết ngày 31 tháng 12 năm 2026." in body
    assert "Xem dự thảo và gửi ý kiến tại: https://tinh.example.gov.vn/du-thao/12" in body
    assert "#GopYDuThao" in body
    assert "{#" not in body and "<p>" not in body  # comment stripped, plain text
    assert body.endswith("\n") and not body.endswith("\n\n")
    assert unicodedata.is_normalized("NFC", body)


def test_builtin_moi_gop_y_portal():
    title, body = text.render((BUILTIN,), "moi-gop-y", "portal", _context())
    assert title == "Mời góp ý dự thảo: Nghị quyết quy định mức hỗ trợ học phí"
    assert "<strong>Nghị quyết quy định mức hỗ trợ học phí</strong>" in body
    assert "<p>Ủy ban nhân dân tỉnh Thử Nghiệm trân trọng mời" in body
    assert "từ ngày 01 tháng 12 năm 2026 đến hết ngày 31 tháng 12 năm 2026" in body
    assert '<a href="https://tinh.example.gov.vn/du-thao/12" rel="noopener noreferrer">' in body  # nh3 adds rel
    assert "{%" not in body and "{#" not in body


def test_builtin_moi_gop_y_without_optional_fields():
    policy = _policy(consultation_opens=None, consultation_closes=None, draft_url=None)
    _, facebook = text.render((BUILTIN,), "moi-gop-y", "facebook", _context(policy=policy))
    _, portal = text.render((BUILTIN,), "moi-gop-y", "portal", _context(policy=policy))
    assert "Thời hạn góp ý" not in facebook and "Xem dự thảo" not in facebook
    assert "Thời gian lấy ý kiến" not in portal and "<a href" not in portal
    assert "Hỗ trợ học phí cho học sinh" in facebook and "Hỗ trợ học phí cho học sinh" in portal


def test_builtin_thong_tin_needs_noi_dung():
    with pytest.raises(InputError) as caught:
        text.render((BUILTIN,), "thong-tin", "facebook", _context())
    message = str(caught.value)
    assert caught.value.key == "render.undefined_at"  # the line is found in the traceback
    assert "noi_dung" in message and "thong-tin.facebook.txt" in message
    title, body = text.render((BUILTIN,), "thong-tin", "facebook", _context(noi_dung="Nội dung tin."))
    assert "Nội dung tin." in body and body.startswith("Nghị quyết quy định")


# --- StrictUndefined --------------------------------------------------------

@pytest.mark.parametrize("source, missing", [
    ("Kính gửi {{ nguoi_nhan }}.\n", "nguoi_nhan"),
    ("{{ policy.so_hieu_van_ban }}\n", "so_hieu_van_ban"),
    ("{% if han_chot %}có hạn{% endif %}\n", "han_chot"),
    ("{% for x in danh_sach %}{{ x }}{% endfor %}\n", "danh_sach"),
])
def test_missing_variable_is_an_input_error_naming_file_and_variable(tmp_path, source, missing):
    user = _user_dir(tmp_path, {"rieng.facebook.txt": source})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "rieng", "facebook", _context())
    assert caught.value.key == "render.undefined_at"
    assert caught.value.params["line"] == 1
    assert missing in str(caught.value)
    assert "rieng.facebook.txt" in str(caught.value)


def test_syntax_error_names_file_and_line(tmp_path):
    user = _user_dir(tmp_path, {"hong.portal.html": "<p>dòng 1</p>\n<p>dòng 2</p>\n<p>{{ policy.title }</p>\n"})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "hong", "portal", _context())
    err = caught.value
    assert err.key == "render.syntax"
    assert err.params["line"] == 3
    assert "hong.portal.html" in str(err) and "3" in str(err)


def test_syntax_error_in_an_included_file_names_that_file(tmp_path):
    user = _user_dir(tmp_path, {"chinh.facebook.txt": "{% include 'posts/phan.txt' %}\n",
                                "phan.txt": "ok\n{% if %}\n"})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "chinh", "facebook", _context())
    assert caught.value.params["line"] == 2
    assert "phan.txt" in str(caught.value)


@pytest.mark.parametrize("source", [
    "{% include 'posts/khong-co.txt' %}\n",  # TemplateNotFound
    "{{ 1 / 0 }}\n",
    "{{ policy.title | ngay }}\n",  # not a date
    "{{ 'mười' | so }}\n",  # not a number
    "{{ policy.consultation_opens | so }}\n",  # a date is not a number
])
def test_template_mistakes_are_input_errors_not_crashes(tmp_path, source):
    user = _user_dir(tmp_path, {"sai.facebook.txt": source})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "sai", "facebook", _context())
    assert caught.value.key == "render.failed_at"
    assert caught.value.params["line"] == 1
    assert "sai.facebook.txt" in str(caught.value)


def test_unknown_template_lists_the_available_ones(tmp_path):
    user = _user_dir(tmp_path, {"bao-chi.facebook.txt": "x\n"})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "khong-co", "portal", _context())
    assert caught.value.key == "render.no_template"
    for name in ("khong-co", "bao-chi", "moi-gop-y", "thong-tin"):
        assert name in str(caught.value)
    # a template that exists only for the other format is not found either
    with pytest.raises(InputError):
        text.render((user, BUILTIN), "bao-chi", "portal", _context())


# --- NFC ---------------------------------------------------------------------

def test_output_is_nfc_when_variables_and_policy_are_decomposed():
    nfc_policy = _policy(title="Quy định hỗ trợ người dân tộc thiểu số",
                         summary="Mức hỗ trợ tăng thêm cho hộ nghèo ở xã đặc biệt khó khăn.")
    nfd_policy = {**nfc_policy, "title": _nfd(nfc_policy["title"]), "summary": _nfd(nfc_policy["summary"])}
    noi_dung = "Ủy ban nhân dân tỉnh thông báo việc lấy ý kiến Nhân dân."
    for name, fmt in [("moi-gop-y", "facebook"), ("moi-gop-y", "portal"),
                      ("thong-tin", "facebook"), ("thong-tin", "portal")]:
        expected = text.render((BUILTIN,), name, fmt, _context(policy=nfc_policy, noi_dung=noi_dung))
        got = text.render((BUILTIN,), name, fmt, _context(policy=nfd_policy, noi_dung=_nfd(noi_dung)))
        assert got == expected, (name, fmt)
        assert all(unicodedata.is_normalized("NFC", part) for part in got)
    _, body = text.render((BUILTIN,), "moi-gop-y", "facebook", _context(policy=nfd_policy))
    assert "Mức hỗ trợ tăng thêm cho hộ nghèo ở xã đặc biệt khó khăn." in body


def test_decomposed_template_source_is_normalised_too(tmp_path):
    user = _user_dir(tmp_path, {"go-tay.facebook.txt": _nfd("Thông báo khẩn: {{ policy.title }}\n")})
    title, body = text.render((user,), "go-tay", "facebook", _context())
    assert body == "Thông báo khẩn: Nghị quyết quy định mức hỗ trợ học phí\n"
    assert title == "Nghị quyết quy định mức hỗ trợ học phí"


def test_length_limit_counts_nfc_characters(tmp_path):
    user = _user_dir(tmp_path, {"dai.facebook.txt": "{{ noi_dung }}\n"})
    word = "Việt "  # 5 characters in NFC, 7 in NFD
    text_nfc = (word * (text.LIMITS["facebook"] // len(word)))[: text.LIMITS["facebook"] - 1]
    assert len(_nfd(text_nfc)) > text.LIMITS["facebook"]
    _, body = text.render((user,), "dai", "facebook", _context(noi_dung=_nfd(text_nfc)))
    assert len(body) <= text.LIMITS["facebook"]


# --- escaping ----------------------------------------------------------------

SCRIPT = '<script>alert("xss")</script> & "trích dẫn"'


def test_portal_html_autoescapes_variables_and_policy_fields():
    policy = _policy(title="Phí & lệ phí <b>mới</b>")
    title, body = text.render((BUILTIN,), "thong-tin", "portal", _context(policy=policy, noi_dung=SCRIPT))
    assert "<script>" not in body
    # escaped by Jinja, then re-serialised by the nh3 sanitiser (quotes need no escaping in text)
    assert '&lt;script&gt;alert("xss")&lt;/script&gt; &amp; "trích dẫn"' in body
    _, invite = text.render((BUILTIN,), "moi-gop-y", "portal", _context(policy=policy))
    assert "<strong>Phí &amp; lệ phí &lt;b&gt;mới&lt;/b&gt;</strong>" in invite
    assert "<b>mới</b>" not in invite
    # the template's own markup is kept
    assert body.startswith("<p>") and "</p>" in body


def test_facebook_text_is_not_escaped():
    policy = _policy(title="Phí & lệ phí <b>mới</b>")
    title, body = text.render((BUILTIN,), "thong-tin", "facebook", _context(policy=policy, noi_dung=SCRIPT))
    assert SCRIPT in body
    assert "Phí & lệ phí <b>mới</b>" in body
    assert "&amp;" not in body and "&lt;" not in body and "&#34;" not in body


def test_user_html_template_escapes_and_txt_does_not(tmp_path):
    user = _user_dir(tmp_path, {"cung.portal.html": "{{ x }}\n", "cung.facebook.txt": "{{ x }}\n"})
    _, html = text.render((user,), "cung", "portal", _context(x="a < b & c"))
    _, plain = text.render((user,), "cung", "facebook", _context(x="a < b & c"))
    assert html == "a &lt; b &amp; c\n"
    assert plain == "a < b & c\n"


# --- title -------------------------------------------------------------------

def test_title_from_set_else_policy_title(tmp_path):
    user = _user_dir(tmp_path, {
        "co-tieu-de.facebook.txt": '{% set title = "Tin nhanh: " ~ policy.code %}Nội dung\n',
        "khong-tieu-de.facebook.txt": "Nội dung\n",
    })
    title, body = text.render((user,), "co-tieu-de", "facebook", _context())
    assert title == "Tin nhanh: 12/2026/NQ-HĐND"
    assert body == "Nội dung\n"  # the set does not leak into the body
    title, _ = text.render((user,), "khong-tieu-de", "facebook", _context())
    assert title == "Nghị quyết quy định mức hỗ trợ học phí"


def test_title_set_conditionally_in_builtin_thong_tin():
    title, _ = text.render((BUILTIN,), "thong-tin", "portal", _context(noi_dung="x", tieu_de="Thông báo mới"))
    assert title == "Thông báo mới"
    title, _ = text.render((BUILTIN,), "thong-tin", "portal", _context(noi_dung="x"))
    assert title == "Nghị quyết quy định mức hỗ trợ học phí"


def test_html_title_is_plain_text_not_escaped(tmp_path):
    user = _user_dir(tmp_path, {
        "khoi.portal.html": "{% set title %}{{ policy.title }} <nóng>{% endset %}<p>x</p>\n",
        "noi.portal.html": '{% set title = "Hỏi & đáp: " ~ policy.title %}<p>x</p>\n',
    })
    policy = _policy(title="Phí & lệ phí")
    title, _ = text.render((user,), "khoi", "portal", _context(policy=policy))
    assert title == "Phí & lệ phí"  # an HTML title is plain text: the template's tag <nóng> is dropped
    title, _ = text.render((user,), "noi", "portal", _context(policy=policy))
    assert title == "Hỏi & đáp: Phí & lệ phí"


def test_title_is_nfc_and_stripped(tmp_path):
    user = _user_dir(tmp_path, {"t.facebook.txt": "{% set title = '  ' ~ tieu_de ~ '\n' %}x\n"})
    title, _ = text.render((user,), "t", "facebook", _context(tieu_de=_nfd("Tiêu đề có dấu")))
    assert title == "Tiêu đề có dấu"


@pytest.mark.parametrize("value", ["", "   ", "Đ" * (text.TITLE_LIMIT + 1)])
def test_bad_title_is_refused(tmp_path, value):
    user = _user_dir(tmp_path, {"t.facebook.txt": "{% set title = tieu_de %}x\n"})
    with pytest.raises(InputError) as caught:
        text.render((user,), "t", "facebook", _context(tieu_de=value))
    assert caught.value.key == "render.bad_title"
    assert "t.facebook.txt" in str(caught.value)


def test_title_at_the_limit_is_accepted(tmp_path):
    user = _user_dir(tmp_path, {"t.facebook.txt": "{% set title = tieu_de %}x\n"})
    title, _ = text.render((user,), "t", "facebook", _context(tieu_de="Đ" * text.TITLE_LIMIT))
    assert len(title) == text.TITLE_LIMIT


# --- user templates override built-in ones ----------------------------------

def test_user_folder_overrides_builtin_template_of_the_same_name(tmp_path):
    user = _user_dir(tmp_path, {"moi-gop-y.facebook.txt": "BẢN CỦA TỈNH: {{ policy.title }}\n"})
    _, body = text.render((user, BUILTIN), "moi-gop-y", "facebook", _context())
    assert body == "BẢN CỦA TỈNH: Nghị quyết quy định mức hỗ trợ học phí\n"
    # the other format, not overridden, still comes from the built-in folder
    title, portal = text.render((user, BUILTIN), "moi-gop-y", "portal", _context())
    assert title.startswith("Mời góp ý dự thảo: ") and "<strong>" in portal
    # folder order decides: built-in first means the built-in wins
    _, builtin_first = text.render((BUILTIN, user), "moi-gop-y", "facebook", _context())
    assert "MỜI GÓP Ý DỰ THẢO CHÍNH SÁCH" in builtin_first and "BẢN CỦA TỈNH" not in builtin_first


def test_error_in_an_override_names_the_users_copy(tmp_path):
    user = _user_dir(tmp_path, {"moi-gop-y.facebook.txt": "{{ so_dien_thoai }}\n"})
    with pytest.raises(InputError) as caught:
        text.render((user, BUILTIN), "moi-gop-y", "facebook", _context())
    assert str(user) in str(caught.value) and "so_dien_thoai" in str(caught.value)


def test_user_template_can_include_a_builtin_one(tmp_path):
    user = _user_dir(tmp_path, {"bo-sung.facebook.txt":
                                "{% include 'posts/moi-gop-y.facebook.txt' %}\nLiên hệ: {{ lien_he }}\n"})
    _, body = text.render((user, BUILTIN), "bo-sung", "facebook", _context(lien_he="0123 456 789"))
    assert "MỜI GÓP Ý DỰ THẢO CHÍNH SÁCH" in body and body.endswith("Liên hệ: 0123 456 789\n")


def test_available_lists_template_names(tmp_path):
    assert text.available((BUILTIN,)) == ["ban-hanh", "moi-gop-y", "nhac-han-gop-y", "thong-qua", "thong-tin"]
    user = _user_dir(tmp_path, {"bao-chi.facebook.txt": "x\n", "moi-gop-y.portal.html": "x\n",
                                "ghi-chu.txt": "not a template: no format\n"})
    assert text.available((user, BUILTIN)) == ["ban-hanh", "bao-chi", "moi-gop-y", "nhac-han-gop-y", "thong-qua",
                                               "thong-tin"]
    assert text.available((tmp_path / "khong-co",)) == []


def test_template_name_finds_the_file_in_any_folder(tmp_path):
    user = _user_dir(tmp_path, {"bao-chi.facebook.txt": "x\n"})
    assert text.template_name((user, BUILTIN), "bao-chi", "facebook") == "posts/bao-chi.facebook.txt"
    assert text.template_name((user, BUILTIN), "moi-gop-y", "portal") == "posts/moi-gop-y.portal.html"
    assert text.template_name((BUILTIN,), "bao-chi", "facebook") is None
    assert text.template_name((user,), "bao-chi", "portal") is None


# --- length limits -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["facebook", "portal"])
def test_body_over_the_format_limit_is_refused(tmp_path, fmt):
    ext = text.FORMAT_EXT[fmt]
    user = _user_dir(tmp_path, {f"dai.{fmt}.{ext}": "{{ noi_dung }}\n"})
    limit = text.LIMITS[fmt]
    # body is the stripped output plus one newline
    _, body = text.render((user,), "dai", fmt, _context(noi_dung="a" * (limit - 1)))
    assert len(body) == limit
    with pytest.raises(InputError) as caught:
        text.render((user,), "dai", fmt, _context(noi_dung="a" * limit))
    assert caught.value.key == "render.too_long"
    assert caught.value.params["limit"] == limit and caught.value.params["length"] == limit + 1
    assert f"dai.{fmt}.{ext}" in str(caught.value)


def test_facebook_limit_is_lower_than_portal(tmp_path):
    user = _user_dir(tmp_path, {"dai.facebook.txt": "{{ noi_dung }}\n", "dai.portal.html": "{{ noi_dung }}\n"})
    long_text = "ý kiến " * 10_000  # 70,000 characters
    _, body = text.render((user,), "dai", "portal", _context(noi_dung=long_text))
    assert len(body) > text.LIMITS["facebook"]
    with pytest.raises(InputError):
        text.render((user,), "dai", "facebook", _context(noi_dung=long_text))


# --- filters -----------------------------------------------------------------

def _filter(tmp_path: Path, expr: str, **variables: object) -> str:
    user = _user_dir(tmp_path, {"loc.facebook.txt": "{{ " + expr + " }}\n"})
    return text.render((user,), "loc", "facebook", _context(**variables))[1].rstrip("\n")


@pytest.mark.parametrize("value, expected", [
    (date(2024, 1, 16), "ngày 16 tháng 01 năm 2024"),
    (date(2026, 12, 1), "ngày 01 tháng 12 năm 2026"),
    (datetime(2025, 9, 2, 8, 30), "ngày 02 tháng 09 năm 2025"),
    ("2024-01-16", "ngày 16 tháng 01 năm 2024"),  # a --var is text
])
def test_ngay_filter(tmp_path, value, expected):
    assert _filter(tmp_path, "d | ngay", d=value) == expected
    assert text.vn_date(value) == expected


def test_ngay_of_nothing_is_empty(tmp_path):
    assert _filter(tmp_path, "'[' ~ (d | ngay) ~ ']'", d=None) == "[]"


@pytest.mark.parametrize("value, expected", [
    (10935259, "10.935.259"),
    (1000, "1.000"),
    (999, "999"),
    (0, "0"),
    (-1234567, "-1.234.567"),
    (1234567.5, "1.234.567,5"),
    ("10935259", "10.935.259"),  # a --var is text
])
def test_so_filter(tmp_path, value, expected):
    assert _filter(tmp_path, "n | so", n=value) == expected
    assert text.vn_number(value) == expected


def test_filters_in_a_real_sentence(tmp_path):
    out = _filter(tmp_path, "'Tính đến ' ~ (d | ngay) ~ ', đã có ' ~ (n | so) ~ ' lượt góp ý.'",
                  d=date(2024, 1, 16), n=10935259)
    assert out == "Tính đến ngày 16 tháng 01 năm 2024, đã có 10.935.259 lượt góp ý."
