"""Picture quality: PSNR of each contender's output against a full-resolution Lanczos reference."""
from __future__ import annotations

import math
from pathlib import Path

from .config import IMAGE_SUFFIXES, SIZE
from .records import Result


def load_rgb(path: Path):
    """Decode an image to an RGB numpy array."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def reference_rgb(original: Path, size: tuple[int, int], cache: dict):
    """Full-resolution (no draft) Pillow LANCZOS resize of the original, as RGB."""
    import numpy as np
    from PIL import Image

    if size not in cache:
        with Image.open(original) as im:
            cache[size] = np.asarray(im.convert("RGB").resize(size, Image.LANCZOS), dtype=np.float64)
    return cache[size]


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio of two 8-bit RGB arrays, in dB."""
    import numpy as np

    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def first_output(out_dir: Path, stem: str) -> Path | None:
    """The output made from input `stem` (else the first image found)."""
    images = sorted(p for p in out_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    named = [p for p in images if p.name.startswith(stem)]
    return (named or images or [None])[0]


def measure_quality(results: list[Result], original: Path) -> None:
    """PSNR of each contender's output of the first copy against the Lanczos reference."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        for res in results:
            res.notes.append("no PSNR: numpy missing")
        return
    cache: dict = {}
    for res in results:
        out = first_output(res.last_out, "img000") if res.last_out and res.times else None
        if out is None:
            continue
        img = load_rgb(out)
        h, w = img.shape[:2]
        res.psnr = psnr(img, reference_rgb(original, (w, h), cache))
        if (w, h) != SIZE:
            res.notes.append(f"output {w}x{h}")
