"""``publisher queue [retry|cancel]``: the deliveries, and what staff do with one of them.

``queue`` alone lists the deliveries (the filters are shared with ``log``);
``queue retry`` puts a failed delivery back in the queue and ``queue cancel``
cancels one that has not gone out, through ``publisher.retries`` (what the
web's deliveries page does), journalled with ``--as`` as the actor.  An
unknown id exits NOT_FOUND (3), a refused transition CONFLICT (4) with a
message naming the delivery's state; nothing changes then.
"""

from __future__ import annotations

import click

from .. import reports, retries
from ..errors import InputError
from ..i18n import t
from ..inputs import a_time
from ..models import Delivery, DeliveryState, nfc
from .output import dump, table, when


def filters_of(app, agency, policy, channel, state, since, until,  # type: ignore[no-untyped-def]
               actor: str | None = None) -> reports.LogFilter:
    """The filter flags of ``queue`` and ``log`` as a LogFilter (times in the display zone)."""
    zone = app.config.timezone
    return reports.LogFilter(agency=agency, policy=policy and nfc(policy), channel=channel, state=state,
                             since=a_time({"since": since}, "since", "--since", zone),
                             until=a_time({"until": until}, "until", "--until", zone), actor=actor and nfc(actor))


def filter_options(func):  # type: ignore[no-untyped-def]
    """Add the filter flags of ``queue`` and ``log`` to a command."""
    for option in reversed([
        click.option("--agency", help="Mã cơ quan / agency."),
        click.option("--policy", help="Mã chính sách / policy code."),
        click.option("--channel", help="Kênh / channel."),
        click.option("--state", type=click.Choice([s.value for s in DeliveryState]),
                     help="Trạng thái / delivery state."),
        click.option("--since", help="Từ thời điểm / from (e.g. 2026-01-01)."),
        click.option("--until", help="Đến trước / until (exclusive)."),
    ]):
        func = option(func)
    return func


@click.group("queue", invoke_without_command=True)
@filter_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def queue(ctx: click.Context, as_json: bool, **f: str | None) -> None:
    """Hàng đợi đăng bài / deliveries with state, due time, attempts, last error.

    Không kèm lệnh con: liệt kê các lượt đăng. Lệnh con retry / cancel: đăng lại
    một lượt đăng thất bại, hoặc hủy một lượt đăng chưa đăng.

    Alone: list the deliveries; retry / cancel act on one of them.

    \b
    Ví dụ / examples:
      publisher queue --state waiting
      publisher --as bien-tap queue retry 7
      publisher --as bien-tap queue cancel 8 --reason "Trùng bài"
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.obj.app()
    rows = reports.queue(app, filters_of(app, **f))
    if as_json:
        dump(rows)
        return
    zone = app.config.timezone
    table([{**r, "state": t(f"state.{r['state']}"), "due": when(r["due"], zone),
            "next_attempt": when(r["next_attempt"], zone)} for r in rows], reports.QUEUE_COLUMNS)


@queue.command("retry")
@click.argument("delivery_id", type=int)
@click.option("--reason", default="", help="Lý do đăng lại, ghi vào nhật ký / why (kept in the journal).")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON / JSON output.")
@click.pass_obj
def retry(state_obj, delivery_id: int, reason: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Đăng lại một lượt đăng thất bại / put a failed delivery back in the queue.

    Chỉ lượt đăng thất bại mới được đăng lại; số lần thử được giữ nguyên và
    trước khi đăng, hệ thống hỏi kênh xem bài đã có ở đó chưa.

    Only a failed delivery; its attempts are kept, and the channel is asked
    first whether the post is already there.  Exit 3: no such delivery;
    exit 4: not failed (the message names its state) or past its deadline.

    \b
    Ví dụ / examples:
      publisher --as bien-tap queue retry 7
      publisher --as bien-tap queue retry 7 --reason "Đã gia hạn mã truy cập" --json
    """
    done = retries.retry(state_obj.app(), state_obj.actor, delivery_id, reason)
    _report(done, as_json, t("delivery.retry_done", id=done.id, channel=done.channel))


@queue.command("cancel")
@click.argument("delivery_id", type=int)
@click.option("--reason", required=True, help="Lý do hủy, ghi vào nhật ký (bắt buộc) / why (required, journalled).")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON / JSON output.")
@click.pass_obj
def cancel(state_obj, delivery_id: int, reason: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Hủy một lượt đăng chưa đăng / cancel one delivery that has not gone out.

    Chỉ hủy được lượt đăng đang chờ đăng, chờ thử lại hoặc đã hẹn giờ (bài hẹn
    giờ trên kênh được xóa ở đó trước). Để hủy cả bài: publisher post cancel.

    Only a queued, waiting or scheduled delivery (one scheduled on the channel
    is deleted there first); to cancel a whole post: publisher post cancel.
    Exit 3: no such delivery; exit 4: it cannot be cancelled in its state.

    \b
    Ví dụ / examples:
      publisher --as bien-tap queue cancel 8 --reason "Trùng bài với lượt đăng số 5"
    """
    if not reason.strip():
        raise InputError("input.required", source=t("cli.flags_source"), field="--reason")
    done = retries.cancel(state_obj.app(), state_obj.actor, delivery_id, reason)
    _report(done, as_json, t("delivery.cancel_done", id=done.id, channel=done.channel))


def _report(done: Delivery, as_json: bool, message: str) -> None:
    """The delivery as it is now (JSON: as ``queue --json`` shows it), or one line saying what was done."""
    if as_json:
        dump(reports.queue_row(done))
    else:
        click.echo(message)
