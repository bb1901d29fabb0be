"""``publisher run|daemon|log|audit``: the daemon's and the auditor's commands (``queue``: see deliveries.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from .. import journal, reports
from ..context import App, default_worker_id
from ..daemon import Daemon
from ..dispatch import Dispatcher
from ..errors import ExitCode, InputError
from ..i18n import t
from .deliveries import filter_options, filters_of, queue
from .output import dump, table, when


@click.command("run")
@click.option("--once", is_flag=True, help="Đăng mọi bài đến hạn rồi thoát / publish what is due, then exit.")
@click.option("--worker-id", default=None, help="Tên tiến trình trong nhật ký / worker name in the log.")
@click.pass_obj
def run(state_obj, once: bool, worker_id: str | None) -> None:  # type: ignore[no-untyped-def]
    """Đăng các bài đến hạn / publish everything due now (for cron or a test).

    Example: publisher run --once   (exit code 1 if a delivery failed)
    """
    if not once:
        raise InputError("cli.run_needs_once")
    app = state_obj.app()
    outcomes = Dispatcher(app, worker_id or app.config.daemon["worker_id"] or default_worker_id()).run_once()
    click.echo(t("run.summary", counts=", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())) or "0"))
    if outcomes.get("failed"):
        raise click.exceptions.Exit(int(ExitCode.FAILED))


@click.command("daemon")
@click.option("--worker-id", default=None, help="Tên tiến trình / worker name (default host:pid).")
@click.pass_obj
def daemon(state_obj, worker_id: str | None) -> None:  # type: ignore[no-untyped-def]
    """Chạy nền, đăng bài đúng giờ / run until SIGTERM, publishing on time.

    Example: publisher daemon --worker-id may-chu-1
    """
    app = state_obj.app()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    finished = Daemon(app, worker_id or app.config.daemon["worker_id"] or default_worker_id()).run()
    if not finished:
        raise click.exceptions.Exit(int(ExitCode.FAILED))


@click.command("log")
@filter_options
@click.option("--journal", "show_journal", is_flag=True, help="Xem sổ nhật ký sự kiện / show journal events.")
@click.option("--actor", help="Chỉ người/tiến trình này: tiến trình đăng (worker), người viết hoặc người duyệt bài; "
              "với --journal: người ghi sự kiện / only rows of this actor: the attempt's worker, the post's "
              "author or approver; with --journal, who recorded the event.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="table (mặc định), csv, json; với --output: theo đuôi tệp (.json, còn lại csv).")
@click.option("--output", type=click.Path(path_type=Path), help="Ghi ra tệp CSV/JSON / write a CSV or JSON file.")
@click.pass_obj
def log(state_obj, show_journal: bool, actor: str | None,  # type: ignore[no-untyped-def]
        fmt: str | None, output: Path | None, **f: str | None) -> None:
    """Nhật ký đăng bài / the publish log (every attempt) or the journal.

    Mỗi dòng có đường dẫn (permalink) tới bài đã đăng; CSV có BOM UTF-8 để Excel hiện đúng tiếng Việt.
    Each row has the permalink of what was published; CSV starts with a UTF-8 BOM for Excel.

    \b
    Ví dụ / examples:
      publisher log --policy 12/NQ --channel fanpage --state published
      publisher log --actor truong-phong --since 2026-01-01 --until 2026-07-01
      publisher log --since 2026-01-01 --format csv --output nhat-ky-2026.csv
      publisher log --journal --actor may-chu-1 --format json
    """
    if output is not None:  # a table is for the screen: a file gets CSV, or JSON for *.json
        if fmt == "table":
            raise InputError("cli.output_table")
        fmt = fmt or ("json" if output.suffix.lower() == ".json" else "csv")
    fmt = fmt or "table"
    app = state_obj.app()
    filters = filters_of(app, actor=actor, **f)
    rows = reports.journal_rows(app, filters) if show_journal else reports.publish_log(app, filters)
    columns = ("seq", "time", "actor", "event", "subject", "payload", "hash") if show_journal else reports.LOG_COLUMNS
    if fmt == "table":
        zone = app.config.timezone
        shown = [{**r, "time": when(r["time"], zone)} for r in rows]
        table(shown, [c for c in columns if c not in ("payload", "content_sha256", "author", "approver")])
        return
    text = reports.to_json(rows) if fmt == "json" else reports.to_csv(rows, columns)
    if output:
        try:  # newline="": keep the CSV's own \r\n line ends on every platform
            output.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError("input.cannot_write", path=str(output), detail=exc.strerror or str(exc)) from None
        click.echo(t("log.written", path=str(output), count=len(rows)), err=True)
    else:
        click.echo(text, nl=False)


@click.group("audit")
def audit() -> None:
    """Kiểm tra nhật ký / audit the journal.

    Example: publisher audit verify
    """


@audit.command("verify")
@click.option("--anchor", "show_anchor", is_flag=True,
              help="In mục đầu chuỗi (số, thời điểm, mã băm) để ghi lại hoặc gửi đi nơi khác / print the head "
                   "(seq, time, hash) to write down or send elsewhere.")
@click.option("--since-anchor", "since", metavar="[SEQ:]HASH",
              help="Kiểm tra từ mục được neo trở đi; mục đó phải còn nguyên mã băm / check from an anchored "
                   "entry on; it must still have that hash.")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON / JSON output.")
@click.pass_obj
def verify(state_obj, show_anchor: bool, since: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Kiểm tra chuỗi băm của sổ nhật ký / re-compute the journal's hash chain.

    Mục bị sửa, xóa, chèn hay đổi chỗ: thoát mã 1, nêu mục hỏng đầu tiên.
    Exit 1 naming the first bad entry if one was edited, deleted, inserted or
    reordered.  A tail rewritten with recomputed hashes still chains: only an
    anchor kept elsewhere (--anchor) exposes it (--since-anchor), which reads
    the entries from the anchor on; run verify alone for the whole chain.

    \b
    Ví dụ / examples:
      publisher audit verify
      publisher audit verify --anchor > neo-2026-06.txt
      publisher audit verify --since-anchor 1234:9f86d081884c7d65...
    """
    app = state_obj.app()
    result = reports.verification(app, reports.parse_anchor(since) if since else None)
    summary = reports.summary(result, anchored=since is not None)
    if show_anchor and result.broken is None:
        click.echo(summary["message"], err=True)  # stdout is the anchor alone, ready to be filed
        _print_anchor(result.head, app, as_json)
    elif as_json:
        dump(summary)
    else:
        click.echo(summary["message"], err=result.broken is not None)
    if result.broken is not None:
        raise click.exceptions.Exit(int(ExitCode.FAILED))


def _print_anchor(head: journal.Anchor, app: App, as_json: bool) -> None:
    """The head as JSON, or as lines to copy by hand (time in the display zone, with its offset)."""
    if as_json:
        dump(reports.anchor(head))
        return
    at = head.at.astimezone(app.config.timezone).isoformat(timespec="seconds") if head.at else "-"
    click.echo(t("audit.anchor", seq=head.seq, at=at, hash=head.hash, token=f"{head.seq}:{head.hash}"))


COMMANDS = [queue, run, daemon, log, audit]
