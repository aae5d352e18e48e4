"""Who competes in each task, and the exact command each one runs."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable

from .config import BENCH, JOBS, QUALITY, SIZE, Config
from .inputs import fresh_dir
from .machine import sharp_version
from .records import Contender, Job
from .tools import bash, batchproc_job, missing_tools, no_batchproc, python_imports, q

# Names the targets look results up by.
BATCHPROC = "batchproc --jobs 2 (engine auto)"
BATCHPROC_J1 = "batchproc --jobs 1 (engine auto)"
BATCHPROC_PILLOW = "batchproc --jobs 2 --engine pillow"
SHARP = "sharp (node, 2 in flight)"
PILLOW_POOL = "bare Pillow Pool(2) draft+LANCZOS box"
PILLOW_POOL_1 = "bare Pillow Pool(1) draft+LANCZOS box"
PILLOW_SCRIPT = "bare_pillow_pool.py"
CHECKSUM = "batchproc checksum"
CHECKSUM_J1 = "batchproc checksum --jobs 1"
XARGS_SHA = "find -print0 | xargs -0 -P2 -n 1000 sha256sum"
HELP = "batchproc --help"
EMPTY_RUN = "batchproc resize EMPTY --out OUT2"
SPINS = {"python": "python loop", "sha256": "sha256 of 64 MB x24"}
# (label, task, 1-process name, 2-process name) of every pair in the scaling block.
SCALING_PAIRS = [("batchproc (engine auto), --jobs 1 -> 2", "image", BATCHPROC_J1, BATCHPROC),
                 ("bare Pillow Pool, 1 -> 2 processes", "image", PILLOW_POOL_1, PILLOW_POOL)] + [
    (f"{label}, 1 -> 2 processes", "ceiling", f"{label}: 1 process, 2x in series", f"{label}: 2 processes at once")
    for label in SPINS.values()
]


def batchproc_resize(cfg: Config, src: Path, jobs: int, engine: str | None) -> Callable[[Path], Job]:
    """batchproc resize of the image task into a fresh folder."""
    def prepare(run: Path) -> Job:
        out = run / "out"
        args = ["resize", str(src), "--out", str(out), "--size", "{}x{}".format(*SIZE), "--quality", str(QUALITY),
                "--jobs", str(jobs)]
        return batchproc_job(cfg, args + (["--engine", engine] if engine else []), out)

    return prepare


def bare_pool(src: Path, script: str, jobs: int) -> Callable[[Path], Job]:
    """One of the bare Pool scripts in bench/ over the image task."""
    size = "{}x{}".format(*SIZE)
    # The Pillow floor takes positional arguments only, to stay a few lines long.
    settings = ([size, str(QUALITY), str(jobs)] if script == PILLOW_SCRIPT
                else ["--size", size, "--quality", str(QUALITY), "--jobs", str(jobs)])

    def prepare(run: Path) -> Job:
        out = run / "out"
        return Job([sys.executable, str(BENCH / script), str(src), str(out), *settings], out)

    return prepare


def sharp(cfg: Config, src: Path) -> Callable[[Path], Job]:
    """sharp_resize.js with JOBS files in flight and as many libuv threads."""
    def prepare(run: Path) -> Job:
        out = run / "out"
        argv = ["node", str(BENCH / "sharp_resize.js"), str(src), str(out), "{}x{}".format(*SIZE), str(QUALITY), str(JOBS)]
        return Job(argv, out, {"UV_THREADPOOL_SIZE": str(JOBS), "SHARP_DIR": str(cfg.peers / "sharp")})

    return prepare


def xargs_tool(src: Path, cmd: str, env: dict[str, str], per_call: int = 50) -> Callable[[Path], Job]:
    """A command-line tool fed by find | xargs -P; {out} and {vips_out} name the output folder."""
    def prepare(run: Path) -> Job:
        out = fresh_dir(run / "out")
        vips_out = f"{out}/%s.jpg[Q={QUALITY}]"
        line = (f"find . -maxdepth 1 -name '*.jpg' -print0 | xargs -0 -P{JOBS} -n {per_call} "
                + cmd.format(out=q(out), vips_out=q(vips_out)))
        return Job(bash(line), out, env, cwd=src)

    return prepare


def parallel_vips(src: Path) -> Callable[[Path], Job]:
    """vipsthumbnail run by GNU parallel, one file per job."""
    def prepare(run: Path) -> Job:
        out = fresh_dir(run / "out")
        line = (f"find . -maxdepth 1 -name '*.jpg' -print0 | parallel --will-cite -0 -j{JOBS} -q "
                f"vipsthumbnail {{}} --size {SIZE[0]}x{SIZE[1]} -o {q(f'{out}/%s.jpg[Q={QUALITY}]')}")
        return Job(bash(line), out, {"VIPS_CONCURRENCY": "1"}, cwd=src)

    return prepare


def imgp(src: Path) -> Callable[[Path], Job]:
    """imgp overwrites in place, so it gets a copy of the inputs, made before the clock starts."""
    def prepare(run: Path) -> Job:
        work = run / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        return Job(["imgp", "-x", "{}x{}".format(*SIZE), "-q", str(QUALITY), "-m", "-w", str(work)], work)

    return prepare


def image_contenders(cfg: Config, src: Path) -> list[Contender]:
    """All contenders of the image task, with skip notes for missing tools."""
    size = "{}x{}".format(*SIZE)
    no_bp = no_batchproc(cfg)
    no_sharp = "" if "libvips" in sharp_version(cfg.peers) else f"node or sharp missing under {cfg.peers / 'sharp'}"
    no_pil = "" if python_imports("PIL") else "Pillow not importable"
    no_vips = "" if python_imports("pyvips") else "pyvips not importable (pip install pyvips pyvips-binary)"
    magick = f"mogrify -path {{out}} -filter Lanczos -resize {size} -quality {QUALITY}"
    gm = f"gm mogrify -output-directory {{out}} -filter Lanczos -resize {size} -quality {QUALITY}"
    return [
        Contender("image", BATCHPROC, batchproc_resize(cfg, src, JOBS, None), no_bp, role="batchproc"),
        Contender("image", BATCHPROC_J1, batchproc_resize(cfg, src, 1, None), no_bp),
        Contender("image", BATCHPROC_PILLOW, batchproc_resize(cfg, src, JOBS, "pillow"), no_bp),
        Contender("image", SHARP, sharp(cfg, src), no_sharp, role="sharp"),
        Contender("image", PILLOW_POOL, bare_pool(src, PILLOW_SCRIPT, JOBS), no_pil),
        Contender("image", PILLOW_POOL_1, bare_pool(src, PILLOW_SCRIPT, 1), no_pil),
        Contender("image", "bare pyvips Pool(2) shrink+lanczos3", bare_pool(src, "bare_pyvips_pool.py", JOBS), no_vips),
        Contender("image", "vipsthumbnail | xargs -P2",
                  xargs_tool(src, f"vipsthumbnail --size {size} -o {{vips_out}}", {"VIPS_CONCURRENCY": "1"}),
                  missing_tools("vipsthumbnail", "xargs")),
        Contender("image", "vipsthumbnail | parallel -j2", parallel_vips(src), missing_tools("vipsthumbnail", "parallel")),
        Contender("image", "imgp (Pool of nproc)", imgp(src), missing_tools("imgp")),
        Contender("image", "ImageMagick mogrify | xargs -P2", xargs_tool(src, magick, {"MAGICK_THREAD_LIMIT": "1"}),
                  missing_tools("mogrify", "xargs"), slow=True),
        Contender("image", "GraphicsMagick mogrify | xargs -P2", xargs_tool(src, gm, {"OMP_NUM_THREADS": "1"}),
                  missing_tools("gm", "xargs"), slow=True),
    ]


def ceiling_contenders() -> list[Contender]:
    """Pure-CPU spins, 1 process twice in series against 2 at once: the machine's own 2-core gain."""
    spin = f"{q(sys.executable)} {q(BENCH / 'cpu_spin.py')}"
    found = []
    for kind, label in SPINS.items():
        series = Job(bash(f"{spin} {kind} && {spin} {kind}"))
        together = Job(bash(f"{spin} {kind} & a=$!; {spin} {kind} & b=$!; wait $a && wait $b"))
        found.append(Contender("ceiling", f"{label}: 1 process, 2x in series", lambda run, job=series: job))
        found.append(Contender("ceiling", f"{label}: 2 processes at once", lambda run, job=together: job))
    return found


def small_contenders(cfg: Config, src: Path) -> list[Contender]:
    """Contenders of the small-file checksum task; all write their manifest to /dev/null."""
    return [
        Contender("small", CHECKSUM, lambda run: batchproc_job(cfg, ["checksum", str(src)]), no_batchproc(cfg),
                  role="batchproc"),
        # With one worker: if it is hardly slower, the parent, not hashing, sets the pace.
        Contender("small", CHECKSUM_J1, lambda run: batchproc_job(cfg, ["checksum", str(src), "--jobs", "1"]),
                  no_batchproc(cfg)),
        Contender("small", XARGS_SHA,
                  lambda run: Job(bash(f"find {q(src)} -type f -print0 | xargs -0 -P{JOBS} -n 1000 sha256sum")),
                  missing_tools("sha256sum", "xargs")),
        Contender("small", "find -print0 | parallel -0 -j2 -X sha256sum",
                  lambda run: Job(bash(f"find {q(src)} -type f -print0 | parallel --will-cite -0 -j{JOBS} -X sha256sum")),
                  missing_tools("sha256sum", "parallel")),
    ]


def startup_contenders(cfg: Config, empty: Path) -> list[Contender]:
    """Start-up contenders: batchproc --help, resize of an empty folder, bare interpreter floor."""
    no_bp = no_batchproc(cfg)
    return [
        Contender("startup", HELP, lambda run: batchproc_job(cfg, ["--help"]), no_bp, role="batchproc"),
        Contender("startup", EMPTY_RUN, lambda run: batchproc_job(cfg, ["resize", str(empty), "--out", str(run / "out2")]),
                  no_bp),
        Contender("startup", "python -c pass (floor)", lambda run: Job([sys.executable, "-c", "pass"])),
    ]
