"""Bare Pillow baseline: resize every JPEG in a folder with a 2-process Pool.

Usage: python bare_pillow_pool.py IN_DIR OUT_DIR [--size 720x588] [--quality 80] [--jobs 2]
"""
import argparse
import os
from multiprocessing import Pool

from PIL import Image


def fit(size, box):
    """Largest size with the aspect ratio of `size` that fits inside `box`."""
    scale = min(box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def resize_one(task):
    """Open, draft-decode, Lanczos-resize and save one image."""
    src, dst, box, quality = task
    with Image.open(src) as im:
        target = fit(im.size, box)
        im.draft("RGB", target)
        im.convert("RGB").resize(target, Image.LANCZOS).save(dst, quality=quality)
    return dst


def main():
    """Parse arguments and run the pool."""
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--size", default="720x588")
    ap.add_argument("--quality", type=int, default=80)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    box = tuple(int(v) for v in a.size.split("x"))
    os.makedirs(a.dst, exist_ok=True)
    names = sorted(n for n in os.listdir(a.src) if n.lower().endswith((".jpg", ".jpeg")))
    tasks = [(os.path.join(a.src, n), os.path.join(a.dst, n), box, a.quality) for n in names]
    with Pool(a.jobs) as pool:
        for _ in pool.imap_unordered(resize_one, tasks, chunksize=1):
            pass


if __name__ == "__main__":
    main()
