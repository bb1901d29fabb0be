"""A database outage pauses the daemon with a clear log line; it resumes by itself.

The daemon reaches PostgreSQL through a TCP proxy that the test can cut (all
connections reset, new ones refused) and restore, as a restarted or
unreachable database server would behave.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

from sqlalchemy.engine import make_url

from .conftest import run_cli, set_daemon_options


class TcpProxy:
    """Forwards 127.0.0.1:<port> to *upstream*; ``down()`` cuts everything, ``up()`` restores."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.alive = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def down(self) -> None:
        with self.lock:
            self.alive = False
            for conn in self.open:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            self.open.clear()

    def up(self) -> None:
        with self.lock:
            self.alive = True

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            with self.lock:
                if not self.alive:
                    client.close()
                    continue
                server = socket.create_connection(self.upstream)
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.close()
            except OSError:
                pass


def _published(project, env) -> list[str]:
    return [d["state"] for d in json.loads(run_cli("queue", "--json", cwd=project, env=env).stdout)]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _post(project, env) -> None:
    made = run_cli("--as", "bien-tap", "post", "new", "--policy", "KH-1", "--at", "now", "--channel", "fanpage",
                   "--json", cwd=project, env=env)
    assert made.returncode == 0, made.stderr
    approved = run_cli("--as", "truong-phong", "post", "approve", str(json.loads(made.stdout)["id"]), cwd=project,
                       env=env)
    assert approved.returncode == 0, approved.stderr


def test_the_daemon_pauses_during_a_database_outage_and_resumes_by_itself(project, pg_url):
    set_daemon_options(project, poll_seconds=0.5)
    direct = {"PUBLISHER_DATABASE_URL": pg_url}
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    assert run_cli("policy", "add", "--agency", "tinh", "--code", "KH-1", "--title", "Chính sách thử",
                   "--summary", "Tóm tắt", cwd=project, env=direct).returncode == 0
    _post(project, direct)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_DATABASE_URL"] = via_proxy
    daemon = subprocess.Popen([sys.executable, "-m", "publisher", "daemon", "--worker-id", "d1"], cwd=project,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _published(project, direct) == ["published"], timeout=20)
        proxy.down()  # the database disappears
        _post(project, direct)  # work arrives meanwhile (written by staff through the real server)
        time.sleep(3)
        assert daemon.poll() is None  # still running, paused
        assert _published(project, direct) == ["published", "queued"]
        proxy.up()  # the database is back
        assert _wait(lambda: _published(project, direct) == ["published", "published"], timeout=30)
    finally:
        daemon.send_signal(15)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "database unavailable, pausing" in err and "database reachable again; resuming" in err
    assert "Traceback" not in err
