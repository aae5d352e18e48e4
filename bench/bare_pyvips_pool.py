"""Bare pyvips baseline: shrink-on-load + lanczos3 resize with a 2-process Pool.

Each worker runs libvips with one thread (VIPS_CONCURRENCY=1), so N jobs use N cores.
Usage: python bare_pyvips_pool.py IN_DIR OUT_DIR [--size 720x588] [--quality 80] [--jobs 2]
"""
import argparse
import os
from multiprocessing import Pool


def init_worker():
    """Import libvips inside the worker, single-threaded, with no operation cache."""
    os.environ["VIPS_CONCURRENCY"] = "1"
    import pyvips

    pyvips.cache_set_max(0)


def fit(size, box):
    """Largest size with the aspect ratio of `size` that fits inside `box`."""
    scale = min(box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def resize_one(task):
    """Open with JPEG shrink-on-load (largest 1/2/4/8 not above the factor), lanczos3 to size, save."""
    import pyvips  # already loaded by init_worker; libvips is never loaded before the fork

    src, dst, box, quality = task
    full = pyvips.Image.new_from_file(src)  # header only; pixels are not decoded yet
    tw, th = fit((full.width, full.height), box)
    factor = min(full.width / tw, full.height / th)
    shrink = max(s for s in (1, 2, 4, 8) if s <= max(factor, 1))  # sharp's fastShrinkOnLoad rule
    im = pyvips.Image.new_from_file(src, shrink=shrink, access="sequential")
    im = im.resize(tw / im.width, vscale=th / im.height, kernel="lanczos3")
    im.write_to_file(dst, Q=quality)
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
    with Pool(a.jobs, initializer=init_worker) as pool:
        for _ in pool.imap_unordered(resize_one, tasks, chunksize=1):
            pass


if __name__ == "__main__":
    main()
