"""Draw assets/logos/logo-mau.png: a neutral placeholder agency logo for demos and tests.

Run once (``python assets/logos/ve-logo-mau.py``); the PNG is committed.  It is
deliberately NOT the national emblem or any real agency's seal: a blue disc
with a gold ring and the initials "CQ" (cơ quan = agency) over "MẪU" (sample).
Drawn 4× larger and reduced, so the edges are smooth.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "fonts"
SIDE, SCALE = 256, 4
NAVY, GOLD, WHITE = (13, 59, 122, 255), (242, 183, 5, 255), (255, 255, 255, 255)


def main() -> None:
    big = SIDE * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.ellipse((0, 0, big - 1, big - 1), fill=NAVY)
    ring = big // 16
    pen.ellipse((ring, ring, big - 1 - ring, big - 1 - ring), outline=GOLD, width=big // 40)
    initials = ImageFont.truetype(str(FONTS / "BeVietnamPro-Bold.ttf"), big * 38 // 100)
    pen.text((big // 2, big * 47 // 100), "CQ", font=initials, fill=WHITE, anchor="ms")
    pen.line((big * 30 // 100, big * 55 // 100, big * 70 // 100, big * 55 // 100), fill=GOLD, width=big // 64)
    label = ImageFont.truetype(str(FONTS / "BeVietnamPro-SemiBold.ttf"), big * 13 // 100)
    pen.text((big // 2, big * 74 // 100), "MẪU", font=label, fill=WHITE, anchor="ms")
    image.resize((SIDE, SIDE), Image.Resampling.LANCZOS).save(HERE / "logo-mau.png", optimize=True)


if __name__ == "__main__":
    main()
