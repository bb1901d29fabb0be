"""``publisher web``: serve the web UI and the JSON API with uvicorn.

The secret that signs session cookies is checked before anything listens:
without it the command stops with one line naming both ways to give it
(exit code 2).  For a production server run the same application under
your own ASGI server: ``uvicorn --factory publisher.web:app_from_env``.
"""

from __future__ import annotations

import os

import click

from ..i18n import t


@click.command("web")
@click.option("--host", default=None, metavar="ADDR",
              help="Địa chỉ lắng nghe / address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Cổng / TCP port (default: web.port, 8080).")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Số tiến trình / server processes (default: web.workers, 1).")
@click.pass_obj
def web(state, host: str | None, port: int | None, workers: int | None) -> None:  # type: ignore[no-untyped-def]
    """Chạy giao diện web / serve the web UI (staff, approvers, auditors) and the JSON API.

    Cần khóa bí mật ký phiên đăng nhập trong biến môi trường PUBLISHER_WEB_SECRET
    (hoặc tệp web.secret_file). / Needs the session secret in $PUBLISHER_WEB_SECRET
    (or the file named by web.secret_file).

    \b
    Ví dụ / examples:
      export PUBLISHER_WEB_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
      publisher web
      publisher web --host 0.0.0.0 --port 8000
      publisher web --workers 4          # một tiến trình mỗi lõi CPU / one per CPU core
    """
    import uvicorn  # imported here: every other command starts without the web stack

    from ..web import create_app
    from ..web.options import session_secret, web_options

    app = state.app()
    options = web_options(app.config)
    secret = session_secret(options)  # refused before opening a port: one clear line, exit 2
    bind_host, bind_port = host or options.host, port or options.port
    click.echo(t("web.serving", url=f"http://{_shown_host(bind_host)}:{bind_port}/"), err=True)
    # proxy_headers: behind a reverse proxy on this machine, the client's address and https
    # (X-Forwarded-For/-Proto, trusted from 127.0.0.1 only) drive the rate limit and the Secure cookie
    server = {"host": bind_host, "port": bind_port, "proxy_headers": True, "log_level": "info",
              "server_header": False}
    count = workers or options.workers
    if count == 1:
        uvicorn.run(create_app(app, secret=secret, options=options), **server)
        return
    # Several processes: each opens the same config and database itself (uvicorn imports the factory
    # in every worker); the secret and the config path reach them through the environment.
    os.environ["PUBLISHER_CONFIG"] = str(app.config.path)
    app.close()
    uvicorn.run("publisher.web:app_from_env", factory=True, workers=count, **server)


def _shown_host(host: str) -> str:
    """An IPv6 address in brackets, as a URL needs it."""
    return f"[{host}]" if ":" in host else host


COMMANDS = [web]
