"""The coverage report (``publisher report coverage``): exact figures, reasons, every output format.

The data is a synthetic year built through the real library: policies with
``service.add_policy``, posts written and approved with ``posts``, published by
the real Dispatcher with outbox channels.  The dispatcher takes a clock, so
"publishing on 15 January 2025" is the real path run at that moment; no row
is edited by hand except where noted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from publisher import coverage, i18n, posts, service
from publisher import coverage_html as view
from publisher.cli import cli
from publisher.context import App
from publisher.dispatch import Dispatcher
from publisher.errors import ExitCode, InputError
from publisher.store.engine import write
from publisher.store.schema import deliveries

from .conftest import BASE_CONFIG, run_cli
from .helpers import Clock

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = coverage.Period(date(2025, 1, 1), date(2025, 12, 31))
HOSTILE = "<script>alert('xss')</script> Nghị quyết về phí & lệ phí"


# --- building the year through the real library -------------------------------------

def local(text: str) -> datetime:
    """A local time in Asia/Ho_Chi_Minh as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


def policy(app: App, code: str, opens: str, issued: str | None = None, agency: str = "tinh",
           impact: str = "high", title: str | None = None) -> None:
    closes = (date.fromisoformat(opens) + timedelta(days=20)).isoformat()
    service.add_policy(app, "bien-tap", {
        "code": code, "agency": agency, "title": title or f"Chính sách {code} về hỗ trợ người dân",
        "summary": "Tóm tắt nội dung chính sách.", "impact": impact, "consultation_opens": opens,
        "consultation_closes": closes, "issued_on": issued, "draft_url": "https://tinh.example.gov.vn/du-thao"})


def post(app: App, code: str, channels: tuple[str, ...], at: str, agency: str = "tinh",
         approve: bool = True, **extra: Any) -> int:
    """A post (local time *at*), approved by a second person unless *approve* is False.

    General news ("thong-tin"): an invitation to comment could not be written after the
    consultation closed, and the late and early cases here need posts at any time.
    """
    extra = {"template": "thong-tin", "variables": {"noi_dung": "Thông tin chính sách."}, **extra}
    written = posts.new_post(app, "bien-tap", {"policy": code, "agency": agency, "channels": list(channels),
                                               "at": at, **extra})
    if approve:
        posts.approve(app, "truong-phong", written.id)
    return written.id


def publish_due(app: App, at: str) -> dict[str, int]:
    """Run the real dispatcher as if it were *at* (local): what is due goes out at that moment."""
    clock = Clock()
    clock.now = local(at)
    dispatcher = Dispatcher(app, "kiem-thu", clock)
    try:
        return dict(dispatcher.run_once())
    finally:
        dispatcher.close()


def build_year(app: App) -> None:
    """2025, in the order it happened (a run publishes everything due by its clock)."""
    policy(app, "X1/2024", "2024-12-31")  # consultation opened before the period: out of scope
    post(app, "X1/2024", ("portal",), "2025-01-02 08:00")
    assert publish_due(app, "2025-01-02 08:00") == {"published": 1}
    policy(app, "01/2025", "2025-01-10", "2025-04-01")  # covered on the portal
    post(app, "01/2025", ("portal",), "2025-01-15 08:00")
    publish_due(app, "2025-01-15 08:00")
    policy(app, "02/2025", "2025-02-01", "2025-05-01")  # covered on both kinds
    post(app, "02/2025", ("portal", "fanpage"), "2025-02-03 08:00")
    publish_due(app, "2025-02-03 08:00")
    policy(app, "03/2025", "2025-03-01")  # covered on the fanpage, still open (not issued)
    post(app, "03/2025", ("fanpage",), "2025-03-02 08:00")
    publish_due(app, "2025-03-02 08:00")
    policy(app, "N1/2025", "2025-03-05", impact="normal")  # normal impact: out of scope
    post(app, "N1/2025", ("portal",), "2025-03-06 08:00")
    publish_due(app, "2025-03-06 08:00")
    _edges(app)
    _failures(app)


def _edges(app: App) -> None:
    policy(app, "04/2025", "2025-04-10", "2025-08-01")  # published the evening before consultation opened
    post(app, "04/2025", ("portal",), "2025-04-09 23:30")
    publish_due(app, "2025-04-09 23:30")
    posts.cancel(app, "bien-tap", post(app, "04/2025", ("fanpage",), "2025-04-20 08:00"))
    policy(app, "05/2025", "2025-05-10", "2025-07-01")  # 00:10 local on the opening day (still 9 May in UTC)
    post(app, "05/2025", ("fanpage",), "2025-05-10 00:10")
    publish_due(app, "2025-05-10 00:10")
    policy(app, "07/2025", "2025-06-01", "2025-06-30")  # 23:55 local on the issuance day: in time
    post(app, "07/2025", ("portal",), "2025-06-30 23:55")
    publish_due(app, "2025-06-30 23:55")
    policy(app, "06/2025", "2025-05-01", "2025-06-30")  # five minutes after the issuance day ended
    post(app, "06/2025", ("portal",), "2025-07-01 00:05")
    publish_due(app, "2025-07-01 00:05")


def _failures(app: App) -> None:
    policy(app, "08/2025", "2025-08-01", "2025-11-01")  # its one delivery failed: its deadline passed
    post(app, "08/2025", ("portal",), "2025-08-05 08:00", deadline="2025-08-05 12:00")
    assert publish_due(app, "2025-08-06 08:00") == {"failed": 1}
    policy(app, "09/2025", "2025-09-01")  # approved, then cancelled
    posts.cancel(app, "bien-tap", post(app, "09/2025", ("fanpage",), "2025-09-02 08:00"))
    policy(app, "10/2025", "2025-10-01", "2025-12-01")  # a draft nobody approved
    post(app, "10/2025", ("portal",), "2025-10-02 08:00", approve=False)
    policy(app, "XA1/2025", "2025-10-15", agency="xa")  # another agency, covered on its fanpage
    post(app, "XA1/2025", ("xa-fanpage",), "2025-10-16 08:00", agency="xa")
    publish_due(app, "2025-10-16 08:00")
    policy(app, "11/2025", "2025-11-20")  # still open, its posts queued for the end of December
    post(app, "11/2025", ("portal", "fanpage"), "2025-12-30 08:00")
    policy(app, "X2/2026", "2026-01-05")  # opens after the period: out of scope


def with_audit(project: Path, **values: object) -> App:
    """The app reopened with an [audit] table in config.toml."""
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    (project / "config.toml").write_text(BASE_CONFIG + "\n[audit]\n" + lines, encoding="utf-8")
    return App.open(project / "config.toml")


def figures(app: App, agency: str | None = None) -> tuple[int, int, dict[str, str | None]]:
    cov = coverage.build(app, YEAR, agency)
    return cov.in_scope, cov.covered, {r["code"]: r["reason"] for r in cov.rows}


COVERED_ANY = {"01/2025": None, "02/2025": None, "03/2025": None, "05/2025": None, "07/2025": None, "XA1/2025": None}
UNCOVERED = {"04/2025": "too_early", "06/2025": "too_late", "08/2025": "failed", "09/2025": "cancelled",
             "10/2025": "nothing_queued", "11/2025": "pending"}


@pytest.fixture
def year(app: App) -> App:
    build_year(app)
    return app


# --- the figures ------------------------------------------------------------------

def test_a_synthetic_year_gives_exactly_the_expected_figure_and_reasons(year: App) -> None:
    cov = coverage.build(year, YEAR)
    assert (cov.in_scope, cov.covered, cov.share, cov.met) == (12, 6, 0.5, False)
    assert {r["code"]: r["reason"] for r in cov.rows} == COVERED_ANY | UNCOVERED
    assert [r["code"] for r in cov.rows][:3] == ["01/2025", "02/2025", "03/2025"]  # by consultation opening
    rows = {r["code"]: r for r in cov.rows}
    assert rows["05/2025"]["first_published"] == local("2025-05-10 00:10")
    assert rows["02/2025"]["channels"] == ["fanpage", "portal"]
    assert rows["06/2025"]["first_published"] == local("2025-07-01 00:05")  # shown, though too late
    assert rows["03/2025"]["issued_on"] is None and rows["11/2025"]["first_published"] is None
    assert cov.by_channel == {"fanpage": 3, "portal": 5, "xa-fanpage": 1}  # early and late ones included
    assert view.reason_counts(cov) == {"wrong_channel": 0, "pending": 1, "too_late": 1, "too_early": 1,
                                       "failed": 1, "cancelled": 1, "nothing_queued": 1}


@pytest.mark.parametrize(("requires", "covered", "wrong"), [
    ("any", {"01/2025", "02/2025", "03/2025", "05/2025", "07/2025", "XA1/2025"}, set()),
    ("portal", {"01/2025", "02/2025", "07/2025"}, {"03/2025", "05/2025", "XA1/2025"}),
    ("fanpage", {"02/2025", "03/2025", "05/2025", "XA1/2025"}, {"01/2025", "07/2025"}),
    ("both", {"02/2025"}, {"01/2025", "03/2025", "05/2025", "07/2025", "XA1/2025"}),
])
def test_the_channel_rule_changes_the_result(year: App, project: Path, requires: str, covered: set[str],
                                              wrong: set[str]) -> None:
    reopened = with_audit(project, coverage_requires=requires)
    try:
        in_scope, count, reasons = figures(reopened)
    finally:
        reopened.close()
    assert (in_scope, count) == (12, len(covered))
    assert {code for code, why in reasons.items() if why is None} == covered
    assert {code for code, why in reasons.items() if why == "wrong_channel"} == wrong
    assert {code: why for code, why in reasons.items() if code in UNCOVERED} == UNCOVERED


def test_the_target_is_met_exactly_and_agencies_are_separate(year: App, project: Path) -> None:
    reopened = with_audit(project, coverage_target=0.5)
    try:
        cov = coverage.build(reopened, YEAR)
        assert (cov.share, cov.target, cov.met) == (0.5, 0.5, True)  # 6 of 12 meets 50%: no float slack
        assert figures(reopened, "tinh")[:2] == (11, 5)
        assert figures(reopened, "xa") == (1, 1, {"XA1/2025": None})
    finally:
        reopened.close()


def test_a_channel_no_longer_configured_counts_only_under_any(app: App, project: Path) -> None:
    extra = '\n[channels.cong-cu]\ntype = "outbox"\nagency = "tinh"\nformat = "portal"\n'
    (project / "config.toml").write_text(BASE_CONFIG + extra, encoding="utf-8")
    old = App.open(project / "config.toml")
    try:
        policy(old, "20/2025", "2025-03-01")
        post(old, "20/2025", ("cong-cu",), "2025-03-03 08:00")
        policy(old, "21/2025", "2025-03-01")
        did = posts.approve(old, "truong-phong", post(old, "21/2025", ("cong-cu",), "2025-03-03 08:00", approve=False))
        publish_due(old, "2025-03-03 08:00")
        # No Facebook Page here: make this removed channel's receipt one from Facebook (the real
        # path cannot publish to facebook.com in a test), so its kind is known after removal.
        with write(old.engine) as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == did[0])
                         .values(permalink="https://www.facebook.com/111111_222"))
    finally:
        old.close()
    for requires, expected in (("any", {"20/2025": None, "21/2025": None}),
                               ("portal", {"20/2025": "wrong_channel", "21/2025": "wrong_channel"}),
                               ("fanpage", {"20/2025": "wrong_channel", "21/2025": None})):
        reopened = with_audit(project, coverage_requires=requires)  # cong-cu is gone from config.toml
        try:
            assert figures(reopened)[2] == expected, requires
        finally:
            reopened.close()


def test_nothing_in_scope_is_said_not_divided(app: App) -> None:
    cov = coverage.build(app, YEAR)
    assert (cov.in_scope, cov.covered, cov.share, cov.met) == (0, 0, None, None)
    assert view.to_dict(cov)["share"] is None
    shown = ok("report", "coverage", "--year", "2025")
    assert "Không có chính sách có tác động lớn nào" in shown.stdout and "ZeroDivision" not in shown.output


@pytest.mark.parametrize(("args", "key", "params"), [
    ((None, "2025-13-01", "2025-12-31"), "input.bad_date", {"field": "from", "value": "2025-13-01"}),
    (("2025", "2025-01-01", None), "coverage.year_and_dates", {}),
    (("25", None, None), "coverage.bad_year", {"value": "25"}),
    ((None, "2025-12-31", "01/01/2025"), "coverage.dates_order", {"start": "2025-12-31", "end": "2025-01-01"}),
    ((None, "2025-01-01", None), "coverage.period_required", {}),
])
def test_bad_periods_are_named_errors(args: tuple[str | None, ...], key: str, params: dict[str, str]) -> None:
    with pytest.raises(InputError) as caught:
        coverage.parse_period(*args)
    assert caught.value.key == key and params.items() <= caught.value.params.items()


def test_a_period_is_read_as_dates_with_to_included() -> None:
    assert coverage.parse_period("2025", None, None) == YEAR
    assert coverage.parse_period(None, "01/01/2025", "2025-12-31") == YEAR


# --- the command ------------------------------------------------------------------

def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, (args, result.output)
    return result


def test_cli_table_csv_json_and_year_equals_from_to(year: App, project: Path) -> None:
    table = ok("report", "coverage", "--year", "2025").stdout
    assert "Đã truyền thông 6/12 chính sách có tác động lớn (50%); mục tiêu 70%: CHƯA ĐẠT" in table
    assert "Số, ký hiệu" in table and "bài được đăng sau ngày ban hành" in table and "chưa ban hành" in table
    assert "2025-05-10 00:10" in table  # local time, not UTC
    english = ok("--lang", "en", "report", "coverage", "--year", "2025").stdout
    assert "Communicated 6 of 12 high-impact policies (50%); target 70%: NOT MET" in english
    assert "Why not covered" in english and "published before consultation opened" in english

    data = json.loads(ok("report", "coverage", "--year", "2025", "--format", "json").stdout)
    assert data == json.loads(ok("report", "coverage", "--from", "2025-01-01", "--to", "31/12/2025",
                                 "--format", "json").stdout)
    assert {k: data[k] for k in ("from", "to", "in_scope", "covered", "uncovered", "share", "target", "met")} == {
        "from": "2025-01-01", "to": "2025-12-31", "in_scope": 12, "covered": 6, "uncovered": 6, "share": 0.5,
        "target": 0.7, "met": False}
    assert {p["code"]: p["reason"] for p in data["policies"]} == COVERED_ANY | UNCOVERED
    assert data["reasons"]["too_late"] == 1 and data["by_channel"]["portal"] == 5

    ok("report", "coverage", "--year", "2025", "--agency", "tinh", "--output", "bao-cao.csv")
    raw = (project / "bao-cao.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 11 and {r["agency"] for r in rows} == {"tinh"}
    late = next(r for r in rows if r["code"] == "06/2025")
    assert (late["covered"], late["reason"]) == ("false", "too_late")
    assert late["reason_text"] == "bài được đăng sau ngày ban hành"
    assert next(r for r in rows if r["code"] == "02/2025")["channels"] == "fanpage, portal"
    assert "Chính sách 01/2025 về hỗ trợ người dân" in raw.decode("utf-8-sig")


def test_cli_html_is_one_safe_page_with_charts(year: App, project: Path) -> None:
    policy(year, "99/2025", "2025-12-01", title=HOSTILE)
    result = ok("report", "coverage", "--year", "2025", "--output", "bao-cao.html")
    assert "bao-cao.html" in result.stderr
    html = (project / "bao-cao.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in html and '<meta charset="utf-8">' in html
    assert "Báo cáo tỷ lệ truyền thông chính sách có tác động lớn" in html and "46,2%" in html  # 6 of 13
    assert "CHƯA ĐẠT" in html and "T05/2025" in html and "T12/2025" in html
    assert "<script" not in html and "&lt;script&gt;alert(" in html and "phí &amp; lệ phí" in html
    assert not re.search(r"<link|src=|@import|url\(", html)  # nothing fetched from elsewhere
    charts = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(charts) == 2
    for chart in charts:
        ET.fromstring(chart)  # well-formed SVG
    assert charts[1].count("<rect") == 3  # fanpage, portal, xa-fanpage
    assert "chưa có bài nào được duyệt để đăng" in html and "bài còn trong hàng đợi, chưa được đăng" in html


def test_cli_html_in_english_and_by_quarter_beyond_a_year(year: App, project: Path) -> None:
    html = ok("--lang", "en", "report", "coverage", "--from", "2024-01-01", "--to", "2025-12-31",
              "--format", "html").stdout
    assert '<html lang="en">' in html and "Coverage by quarter of consultation opening" in html
    assert "Q1 2024" in html and "Q4 2025" in html and "Q1 2026" not in html
    assert "7/13 high-impact policies communicated" in html  # X1/2024 is in scope now


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2025-02-30", "--to", "2025-03-01"), "'2025-02-30' không phải ngày hợp lệ"),
    (("--from", "2025-12-31", "--to", "2025-01-01"), "--from (2025-12-31) không được sau --to (2025-01-01)"),
    (("--year", "2025", "--from", "2025-01-01"), "không dùng --year cùng với --from/--to"),
    (("--year", "hai-nghin",), "'hai-nghin' không phải năm hợp lệ"),
    ((), "hãy chọn kỳ báo cáo"),
    (("--year", "2025", "--agency", "huyen"), "cơ quan 'huyen' chưa được khai báo; các cơ quan: tinh, xa"),
    (("--year", "2025", "--format", "table", "--output", "x.html"), "--output ghi tệp CSV, JSON hoặc HTML"),
    (("--year", "2025", "--output", "khong-co/thu-muc/x.csv"), "không ghi được tệp khong-co/thu-muc/x.csv"),
])
def test_bad_input_is_one_line_and_exit_2(project: Path, args: tuple[str, ...], message: str) -> None:
    result = invoke("report", "coverage", *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.startswith("Lỗi: ") and message in result.stderr and "Traceback" not in result.output


def test_the_real_command_writes_a_bom_csv_and_refuses_cleanly(project: Path) -> None:
    done = run_cli("report", "coverage", "--year", "2025", "--format", "csv", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeffagency,code,title,")
    bad = run_cli("--lang", "en", "report", "coverage", "--from", "hôm qua", "--to", "2025-01-01", cwd=project)
    assert bad.returncode == ExitCode.USAGE and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "Error: --from: 'from' = 'hôm qua' is not a date; write 2024-01-16 or 16/01/2024"


def test_every_text_the_report_shows_exists_in_both_languages() -> None:
    keys = [f"coverage.col.{c}" for c in coverage.COLUMNS] + [f"coverage.reason.{r}" for r in coverage.REASONS]
    keys += [f"coverage.rule.{r}" for r in ("any", "portal", "fanpage", "both")]
    assert [k for k in keys if set(i18n.catalogue().get(k, {})) != {"vi", "en"}] == []
    assert all(view.reason_text(r) == i18n.t(f"coverage.reason.{r}") for r in coverage.REASONS)
    assert view.percent(2 / 3) == "66,7%" and view.percent(0.7) == "70%"
    i18n.set_language("en")
    assert view.percent(2 / 3) == "66.7%" and view.headers()["reason"] == "Why not covered"
