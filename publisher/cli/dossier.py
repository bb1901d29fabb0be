"""``publisher dossier``: one policy's evidence for an inspection, as a ZIP."""

from __future__ import annotations

from pathlib import Path

import click

from .. import dossier as dossier_mod
from ..errors import ExitCode
from ..i18n import t


@click.command("dossier")
@click.argument("policy")
@click.option("--agency", help="Mã cơ quan, khi mã chính sách trùng giữa các cơ quan / agency code.")
@click.option("--output", type=click.Path(path_type=Path),
              help="Tệp ZIP (hoặc thư mục) ghi ra / ZIP file or folder (default ./ho-so-<mã>-<ngày>.zip).")
@click.pass_obj
def dossier(state_obj, policy: str, agency: str | None, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Hồ sơ kiểm tra của một chính sách / a policy's evidence dossier (ZIP).

    Nội dung đã duyệt, ảnh, biên nhận, người duyệt, trích sổ nhật ký có mã
    băm, SHA256SUMS và index.html để mở bằng trình duyệt.  Exit 1 if an
    approved image is missing from the data folder (the dossier notes it).

    \b
    Ví dụ / examples:
      publisher dossier 12/2026/NQ-HĐND
      publisher dossier 12/2026/NQ-HĐND --agency tinh --output ho-so-12.zip
    """
    app = state_obj.app()
    written = dossier_mod.export(app, state_obj.actor, policy, agency, output)
    click.echo(t("dossier.written", path=str(written.path), posts=written.posts, entries=written.entries))
    for path in written.missing:
        click.echo(t("dossier.media_missing", path=path), err=True)
    if written.missing:
        raise click.exceptions.Exit(int(ExitCode.FAILED))


COMMANDS = [dossier]
