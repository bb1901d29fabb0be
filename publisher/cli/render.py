"""``publisher preview`` and ``publisher render``: see a post before it goes out."""

from __future__ import annotations

from pathlib import Path

import click

from .. import previews, service
from ..i18n import t


@click.command("preview")
@click.argument("post_id", type=int, required=False)
@click.option("--policy", help="Xem mẫu với dữ liệu chính sách này / a template with this policy's data.")
@click.option("--sample", is_flag=True, help="Xem mẫu với dữ liệu mẫu (Kế hoạch 06/KH-UBND) / with sample data.")
@click.option("--template", help="Mẫu bài / template (with --policy or --sample).")
@click.option("--layout", "layouts", multiple=True, help="Bố cục ảnh thông tin / infographic layout, repeatable.")
@click.option("--channel", "channels", multiple=True, help="Kênh / channel (default: all of the agency).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("preview"), show_default=True,
              help="Thư mục ghi tệp / output folder.")
@click.pass_obj
def preview(state, post_id, policy, sample, template, layouts, channels, out) -> None:  # type: ignore[no-untyped-def]
    """Ghi nội dung và ảnh của bài ra tệp để xem trước / write a post's text and images to files.

    \b
    Ví dụ / examples:
      publisher preview 3                      # post 3, as each channel will get it
      publisher preview --sample --template moi-gop-y --layout vuong --layout doc
      publisher preview --policy 12/NQ --template nhac-han-gop-y --out xem-truoc
    """
    app = state.app()
    if post_id is not None:
        written = previews.of_post(app, post_id, out / f"post-{post_id}")
    else:
        if not (policy or sample):
            raise click.UsageError(t("cli.preview_needs"))
        found = service.get_policy(app, policy) if policy else previews.sample_policy(app)
        names = list(channels) or [n for n, c in app.config.channels.items() if c.agency == found.agency]
        written = previews.of_template(app, found, template or app.config.default_template, names, layouts, out)
    for path in written:
        click.echo(str(path))


@click.command("render")
@click.option("--policy", help="Chỉ các bài của chính sách này / only posts of this policy.")
@click.option("--agency", help="Chỉ cơ quan này / only this agency.")
@click.option("--state", type=click.Choice(["draft", "approved"]), help="Chỉ bài ở trạng thái này / only this state.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("preview"), show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), help="Số tiến trình (mặc định: mọi lõi CPU) / processes.")
@click.pass_obj
def render(state_obj, policy, agency, state, out, jobs) -> None:  # type: ignore[no-untyped-def]
    """Xem trước nhiều bài cùng lúc, dùng mọi lõi CPU / preview many posts at once, on all cores.

    \b
    Ví dụ / examples:
      publisher render --policy 12/NQ --out xem-truoc
      publisher render --state draft --jobs 2
    """
    app = state_obj.app()
    ids = previews.post_ids(app, agency, policy, state)
    with click.progressbar(length=len(ids), label=t("render.progress"), file=click.get_text_stream("stderr")) as bar:
        written = previews.render_many(state_obj.config_path, ids, out, jobs, bar.update)
    click.echo(t("render.done", posts=len(ids), files=len(written), out=str(out)))


COMMANDS = [preview, render]
