"""Scanned minutes for the OCR tests and figures: real minutes text rendered to image-only PDF
pages with Pillow (DejaVu Sans, Debian's fonts-dejavu-core), as a 300 dpi scan would be, with
an optional slight skew, speckle and blur."""

from __future__ import annotations

import random
import re
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
A4_300DPI = (2480, 3508)
MARGIN = 200
FONT_PX = 46  # about 11 pt at 300 dpi
LINE_PX = 64


def wrap(text: str, font, width: int) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if font.getlength(trial) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def render_pages(text: str, scan_like: bool = False, seed: int = 13) -> list:
    """Images of A4 pages at 300 dpi holding `text`, as many as it needs."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(FONT), FONT_PX)
    lines = wrap(text, font, A4_300DPI[0] - 2 * MARGIN)
    per_page = (A4_300DPI[1] - 2 * MARGIN) // LINE_PX
    rng = random.Random(seed)
    pages = []
    for start in range(0, len(lines), per_page):
        image = Image.new("L", A4_300DPI, 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(lines[start:start + per_page]):
            draw.text((MARGIN, MARGIN + row * LINE_PX), line, font=font, fill=0)
        if scan_like:
            for _ in range(4000):  # speckle
                x, y = rng.randrange(A4_300DPI[0]), rng.randrange(A4_300DPI[1])
                draw.point((x, y), fill=rng.randrange(0, 120))
            image = image.rotate(rng.uniform(-0.8, 0.8), resample=Image.BICUBIC, fillcolor=255)
            image = image.filter(ImageFilter.GaussianBlur(0.8))
        pages.append(image)
    return pages


def write_scan_pdf(text: str, path: Path, scan_like: bool = False) -> int:
    """An image-only PDF of `text` (no text layer); returns its page count."""
    pages = render_pages(text, scan_like)
    pages[0].save(path, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    return len(pages)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def word_recovery(truth: str, read: str) -> float:
    """The share of the true words found in the OCR text (each occurrence counted once)."""
    from collections import Counter

    want, got = Counter(words(truth)), Counter(words(read))
    total = sum(want.values())
    return sum(min(n, got[w]) for w, n in want.items()) / total if total else 1.0
