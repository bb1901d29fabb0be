"""The command line: ``python -m tests.fakegraph --port 0 --pages pages.json`` (see ``__main__``)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from .fake import FakeGraph


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakegraph --port 0 --pages pages.json``: serve until SIGTERM/SIGINT."""
    import tests.fakegraph as package  # its docstring's first line says what this is

    summary = (package.__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m tests.fakegraph", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pages", type=Path, help='JSON file: {"<page id>": {"name": ..., "token": ...}}')
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--lag", type=float, default=0.0)
    parser.add_argument("--duplicate-window", type=float, default=0.0)
    parser.add_argument("--calls-per-window", type=int, default=10**9)
    parser.add_argument("--usage-window", type=float, default=3600.0)
    parser.add_argument("--throttle-code", type=int, default=80001)
    parser.add_argument("--app-id")
    parser.add_argument("--app-secret")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    pages = json.loads(args.pages.read_text(encoding="utf-8")) if args.pages else \
        {"111": {"name": "UBND tỉnh Thử", "token": "EAAB-fake-111"}}
    fake = FakeGraph(pages, latency=args.latency, lag=args.lag, duplicate_window=args.duplicate_window,
                     calls_per_window=args.calls_per_window, usage_window=args.usage_window,
                     throttle_code=args.throttle_code, app_id=args.app_id, app_secret=args.app_secret,
                     seed=args.seed, host=args.host, port=args.port)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    fake.start()
    print(fake.url, flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0
