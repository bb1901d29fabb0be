"""Benchmark: the square infographic ("vuong"), rendered whole, many times.

    python bench/render.py [N]          # N renders in this process (default 60)

One image is the whole job of ``infographic.render``: layout lookup (the parsed
layout is cached while its file is unchanged), NFC + limits, text fitting,
drawing, logo, QR code and PNG encoding.  Printed:

* the first (cold) render, then the median of N warm renders in one process;
* images/s on all cores: a ``multiprocessing.Pool`` of ``os.cpu_count()``
  workers rendering N × cores images (each worker warmed up first);
* the ratio of the median render to encoding the same finished canvas alone
  with the same settings (PNG, zlib level 1) — how much the drawing adds.

The last line is machine-readable:
``median_ms=<float> images_per_s=<float> ratio_to_png=<float>``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from multiprocessing import Pool

from publisher import demo, resources
from publisher.render import infographic

DIRS = (resources.builtin_templates(),)
LAYOUT = "vuong"
DATA = demo.infographic_sample()


def render_one(_: int = 0) -> int:
    return len(infographic.render(DIRS, LAYOUT, DATA))


def _timed(fn, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    cores = os.cpu_count() or 1

    start = time.perf_counter()
    size = render_one()
    print(f"first render (cold caches): {(time.perf_counter() - start) * 1000:.1f} ms, {size} bytes")

    renders = _timed(render_one, n)
    median = statistics.median(renders)
    print(f"{n} renders: median {median:.2f} ms, min {min(renders):.2f}, max {max(renders):.2f}")

    canvas = infographic.draw(infographic.load_layout(DIRS, LAYOUT), DATA)
    encodes = _timed(lambda: infographic.encode(canvas, "png"), n)
    encode = statistics.median(encodes)
    print(f"PNG encode alone (compress_level=1): median {encode:.2f} ms")
    jpeg = statistics.median(_timed(lambda: infographic.encode(canvas, "jpeg"), n))
    print(f"JPEG encode alone (quality 90), for comparison: median {jpeg:.2f} ms")

    total = n * cores
    with Pool(cores, initializer=render_one) as pool:  # each worker warms its caches first
        start = time.perf_counter()
        pool.map(render_one, range(total), chunksize=max(1, total // (cores * 4)))
        wall = time.perf_counter() - start
    per_s = total / wall
    print(f"{cores} processes: {total} images in {wall:.2f} s")

    print(f"median_ms={median:.3f} images_per_s={per_s:.2f} ratio_to_png={median / encode:.3f}")


if __name__ == "__main__":
    main()
