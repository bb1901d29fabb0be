"""``publisher report``: the figures auditors and the signing leader read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import coverage, reports
from .. import coverage_html as view
from ..errors import InputError
from ..i18n import t
from .output import table

if TYPE_CHECKING:
    from ..context import App

FORMATS = ("table", "csv", "json", "html")
CSV_COLUMNS = (*coverage.COLUMNS, "reason_text")


@click.group("report")
def report() -> None:
    """Báo cáo / reports for auditors.

    Example: publisher report coverage --year 2025
    """


@report.command("coverage")
@click.option("--year", help="Cả năm / the whole year (YYYY).")
@click.option("--from", "start", help="Từ ngày / from this date (2025-01-01 or 01/01/2025).")
@click.option("--to", "end", help="Đến hết ngày / to this date, included.")
@click.option("--agency", help="Chỉ cơ quan này / only this agency.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="table (mặc định), csv, json, html; với --output: theo đuôi tệp (.html, .json, còn lại csv).")
@click.option("--output", type=click.Path(path_type=Path), help="Ghi ra tệp / write a file.")
@click.pass_obj
def coverage_report(state_obj, year: str | None, start: str | None, end: str | None,  # type: ignore[no-untyped-def]
                    agency: str | None, fmt: str | None, output: Path | None) -> None:
    """Tỷ lệ truyền thông chính sách có tác động lớn / coverage of high-impact policies vs the target.

    A high-impact policy whose consultation opened in the period counts as
    communicated when it was published (on the kind of channel audit.coverage_requires
    names) from the day consultation opened to the day it was issued.

    \b
    Ví dụ / examples:
      publisher report coverage --year 2025
      publisher report coverage --from 2025-01-01 --to 30/06/2025 --agency tinh
      publisher report coverage --year 2025 --output bao-cao-2025.html
      publisher report coverage --year 2025 --format json
    """
    fmt = _format(fmt, output)
    period = coverage.parse_period(year, start, end)  # before the database: a typo fails fast
    app = state_obj.app()
    cov = coverage.build(app, period, agency)
    if fmt == "table":
        _print(cov, app)
        return
    if fmt == "html":
        text = view.render(cov, app.config.timezone, _agency_name(cov, app))
    else:
        text = reports.to_json(view.to_dict(cov)) if fmt == "json" else reports.to_csv(_csv_rows(cov), CSV_COLUMNS)
    _emit(text, output, cov)


def _format(fmt: str | None, output: Path | None) -> str:
    """A table is for the screen: a file gets the format its suffix names (.html, .json, else CSV)."""
    if output is None:
        return fmt or "table"
    if fmt == "table":
        raise InputError("coverage.output_table")
    suffix = output.suffix.lower()
    return fmt or ("html" if suffix in (".html", ".htm") else "json" if suffix == ".json" else "csv")


def _agency_name(cov: coverage.Coverage, app: App) -> str:
    if cov.agency is None:
        return t("coverage.all_agencies")
    known = app.config.agencies.get(cov.agency)
    return known.name if known else cov.agency  # removed from config.toml: its code is all we have


def _headline(cov: coverage.Coverage, app: App) -> list[str]:
    period = t("coverage.period_line", start=cov.period.start.isoformat(), end=cov.period.end.isoformat(),
               agency=_agency_name(cov, app), rule=view.rule_text(cov.requires))
    if not cov.in_scope:  # nothing to divide by: say so rather than print 0%
        return [period, t("coverage.none_in_scope", target=view.percent(cov.target))]
    return [period, t("coverage.headline", covered=cov.covered, in_scope=cov.in_scope, share=view.percent(cov.share),
                      target=view.percent(cov.target), verdict=view.verdict(cov))]


def _print(cov: coverage.Coverage, app: App) -> None:
    for line in _headline(cov, app):
        click.echo(line)
    click.echo()
    table(view.display_rows(cov, app.config.timezone), coverage.COLUMNS, header_prefix="coverage.col")
    click.echo()
    click.echo(t("coverage.totals", in_scope=cov.in_scope, covered=cov.covered, uncovered=cov.in_scope - cov.covered))
    for reason, count in view.reason_counts(cov).items():
        if count:
            click.echo(t("coverage.reason_line", reason=view.reason_text(reason), count=count))


def _csv_rows(cov: coverage.Coverage) -> list[dict[str, object]]:
    # codes as in JSON (for scripts), plus the reason in words for whoever opens it in Excel
    return [{**r, "covered": "true" if r["covered"] else "false", "channels": ", ".join(r["channels"]),
             "reason": r["reason"] or "", "reason_text": view.reason_text(r["reason"]),
             "first_published": r["first_published"] or "", "issued_on": r["issued_on"] or ""} for r in cov.rows]


def _emit(text: str, output: Path | None, cov: coverage.Coverage) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))  # JSON has no final newline of its own
        return
    try:  # newline="": keep the CSV's own \r\n line ends on every platform
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError("input.cannot_write", path=str(output), detail=exc.strerror or str(exc)) from None
    click.echo(t("coverage.written", path=str(output), count=cov.in_scope), err=True)


COMMANDS = [report]
