"""Input trees of every task, built once and reused while their spec is unchanged."""
from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path
from typing import Callable

from .config import IMAGE_SUFFIXES, PHOTO_DISTINCT, PHOTO_SIZE, Config
from .photos import photo_jpeg

PER_DIR = 1000


def fresh_dir(path: Path) -> Path:
    """Remove and recreate a directory."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def count_files(root: Path | None, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> int:
    """Number of files under root with one of the suffixes."""
    if root is None or not root.exists():
        return 0
    return sum(1 for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def cached_build(root: Path, spec: dict, build: Callable[[Path], None]) -> Path:
    """Build an input tree once; reuse it while its spec file matches."""
    marker = root.parent / f"{root.name}.spec.json"  # beside the tree, so no contender reads it
    if root.is_dir() and marker.exists() and json.loads(marker.read_text()) == spec:
        return root
    marker.unlink(missing_ok=True)
    fresh_dir(root)
    started = time.perf_counter()
    build(root)
    marker.write_text(json.dumps(spec))
    print(f"  built {root} in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def subfolder(root: Path, index: int, digits: int) -> Path:
    """The subfolder holding file number `index`, created with its first file."""
    sub = root / f"d{index // PER_DIR:0{digits}d}"
    if index % PER_DIR == 0:
        sub.mkdir()
    return sub


def build_image_inputs(cfg: Config) -> Path:
    return image_copies(cfg.bench_dir, cfg.image, cfg.copies)


def image_copies(bench_dir: Path, image: Path, copies: int) -> Path:
    """N copies of the benchmark JPEG in one folder (bench/dask_bench.py uses the same)."""
    stat = image.stat()
    spec = {"image": str(image), "bytes": stat.st_size, "mtime": stat.st_mtime, "copies": copies}

    def build(root: Path) -> None:
        for i in range(copies):
            shutil.copyfile(image, root / f"img{i:03d}.jpg")

    return cached_build(bench_dir / "inputs" / "image", spec, build)


def build_small_inputs(cfg: Config, files: int | None = None, name: str = "small") -> Path:
    """Files of 1-4 KB of random bytes, 1,000 per subfolder."""
    files = cfg.small_files if files is None else files
    spec = {"files": files, "seed": 1, "per_dir": PER_DIR}

    def build(root: Path) -> None:
        rng = random.Random(1)
        digits = max(2, len(str(files // PER_DIR)))
        for i in range(files):
            (subfolder(root, i, digits) / f"f{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(1024, 4096)))

    return cached_build(cfg.bench_dir / "inputs" / name, spec, build)


def build_empty_files(cfg: Config) -> Path:
    """Empty files, 1,000 per subfolder, for the memory task."""
    spec = {"files": cfg.memory_files, "per_dir": PER_DIR}

    def build(root: Path) -> None:
        for i in range(cfg.memory_files):
            (subfolder(root, i, 3) / f"e{i:06d}.txt").touch()

    return cached_build(cfg.bench_dir / "inputs" / "empty-files", spec, build)


def build_photo_inputs(cfg: Config) -> Path:
    """Photo-like 800x600 JPEGs, 1,000 per subfolder: a few dozen pictures, each file its own copy."""
    spec = {"files": cfg.incremental_files, "size": list(PHOTO_SIZE), "distinct": PHOTO_DISTINCT,
            "per_dir": PER_DIR, "kind": "photo-like v1"}

    def build(root: Path) -> None:
        pictures = [photo_jpeg(seed, PHOTO_SIZE) for seed in range(PHOTO_DISTINCT)]
        # Written out one by one, never hard-linked: every file has its own inode and mtime,
        # as a camera's files do, so batchproc plans and checks each one.
        for i in range(cfg.incremental_files):
            (subfolder(root, i, 2) / f"p{i:05d}.jpg").write_bytes(pictures[i % PHOTO_DISTINCT])

    return cached_build(cfg.bench_dir / "inputs" / "photos", spec, build)


def photo_sizes(root: Path) -> tuple[int, float]:
    """Number of files and mean size in KB of an input tree."""
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file()]
    return len(sizes), (sum(sizes) / len(sizes) / 1024 if sizes else 0.0)
