"""The Pillow floor: a bare Pool that drafts, resizes and saves every JPEG of a folder, nothing more.

Usage: python bare_pillow_pool.py IN_DIR OUT_DIR WIDTHxHEIGHT QUALITY JOBS   (bench: 720x588 80 2)
`draft` decodes at 1/2, 1/4 or 1/8 scale and returns the original's box in the reduced pixels,
so the Lanczos resize reads exactly the region a full-resolution one would (as Image.thumbnail).
"""
import os
import sys
from multiprocessing import Pool

from PIL import Image


def resize_one(task):
    src, dst, (width, height), quality = task
    with Image.open(src) as im:
        scale = min(width / im.width, height / im.height)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        _, box = im.draft("RGB", size) or (None, None)
        im.resize(size, Image.LANCZOS, box=box).save(dst, quality=quality)


if __name__ == "__main__":
    src, dst, size, quality, jobs = sys.argv[1:6]
    os.makedirs(dst, exist_ok=True)
    box = tuple(int(v) for v in size.split("x"))
    names = sorted(n for n in os.listdir(src) if n.lower().endswith((".jpg", ".jpeg")))
    with Pool(int(jobs)) as pool:
        for _ in pool.imap_unordered(resize_one, [(f"{src}/{n}", f"{dst}/{n}", box, int(quality)) for n in names]):
            pass
