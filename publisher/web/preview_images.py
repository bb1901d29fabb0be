"""The compose page's infographics, drawn once per policy and layout while staff type.

The live preview posts the form a moment after every keystroke.  The texts
depend on what is typed and are rendered every time; an infographic shows
only the policy (title, points, dates, agency, logo, QR) through its layout,
so drawing and encoding it again for each keystroke (~20 ms of CPU, most of
it zlib) would only repeat the same pixels.  The last few are kept, keyed by
everything that goes into them: the drawn data, the layout file and the
logo file (path, size and modification time), so an edited policy, layout
or logo is drawn afresh at the next preview.  Approval never uses this: it
draws and freezes its own copy.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import content
from ..render import infographic
from ..render import layout as layouts

if TYPE_CHECKING:
    from ..context import App
    from ..models import Policy

#: Images kept (each ~50 KB): enough for a team composing posts about a few policies at once.
KEPT = 64
_kept: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_lock = threading.Lock()


def draw(app: App, policy: Policy, layout: str) -> tuple[str, bytes]:
    """``(file name, PNG bytes)`` of *layout* drawn for *policy*, as ``content.draw`` makes them."""
    data = content.infographic_data(app, policy)
    path = layouts.find(app.config.template_dirs, layout)
    key = (str(path), _stamp(path), data, _stamp(data.logo))
    with _lock:
        png = _kept.get(key)
        if png is not None:
            _kept.move_to_end(key)
    if png is None:
        png = infographic.render(app.config.template_dirs, layout, data, "png")
        with _lock:
            _kept[key] = png
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
    return content.image_name(policy, layout), png


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """What tells a changed file: (modification time, size); None for no file or one that cannot be read."""
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None  # drawing will say what is wrong with it
    return found.st_mtime_ns, found.st_size
