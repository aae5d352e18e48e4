"""Who competes in each task, and the exact command each one runs."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable

from .checks import note_engine, verify_manifest
from .config import BENCH, JOBS, QUALITY, SIZE, Batchproc, Config
from .inputs import fresh_dir
from .machine import sharp_version
from .records import THROUGHPUT, TIME, Comparison, Contender, Job
from .tools import bash, batchproc_job, install_suffix, installs, missing_tools, no_batchproc, no_resize, python_imports, q

# Names (and roles) the targets and the scaling block look results up by.
SHARP = "sharp (node, 2 in flight)"
PILLOW_POOL = "bare Pillow Pool(2) draft+LANCZOS box"
PILLOW_POOL_1 = "bare Pillow Pool(1) draft+LANCZOS box"
PILLOW_SCRIPT = "bare_pillow_pool.py"
CHECKSUM = "batchproc checksum"
CHECKSUM_J1 = "batchproc checksum --jobs 1"
CHECKSUM_TENTH = "batchproc checksum, a tenth of the files"
XARGS_SHA = "find -print0 | xargs -0 -P2 -n 1000 sha256sum"
SPINS = {"python": "python loop", "sha256": "sha256 of 64 MB x24"}
# The issues' limits on the image rows: 14.1 at least 1.15x sharp's throughput, 14.2 at most
# 1.05x the time of the tight bare Pillow Pool; 14.3 checksum at most 2x xargs' time.
VS_SHARP = Comparison(SHARP, "sharp", THROUGHPUT, 1.15, "14.1")
VS_POOL = Comparison(PILLOW_POOL, "bare pool", TIME, 1.05, "14.2")
VS_XARGS = Comparison(XARGS_SHA, "xargs", TIME, 2.0, "14.3")
VS_XARGS_MANY = Comparison(XARGS_SHA, "xargs", TIME, 1.5, "14.3")


def resize_name(kind: str, jobs: int = JOBS, engine: str | None = None) -> str:
    """A batchproc row of the image task: 'batchproc --jobs 2 (engine auto), plain install'."""
    return f"batchproc --jobs {jobs} {f'--engine {engine}' if engine else '(engine auto)'}{install_suffix(kind)}"


def scaling_pairs(cfg: Config) -> list[tuple[str, str, str, str]]:
    """(label, task, 1-process row, 2-process row) of every pair in the scaling block; rows by name or role."""
    headline = cfg.install_kinds[0] if cfg.install_kinds else "beside"
    return [(f"batchproc (engine auto{install_suffix(headline)}), --jobs 1 -> 2", "image", "batchproc-j1", "batchproc"),
            ("bare Pillow Pool, 1 -> 2 processes", "image", PILLOW_POOL_1, PILLOW_POOL)] + [
        (f"{label}, 1 -> 2 processes", "ceiling", f"{label}: 1 process, 2x in series", f"{label}: 2 processes at once")
        for label in SPINS.values()
    ]


def batchproc_resize(cfg: Config, src: Path, jobs: int, engine: str | None, bp: Batchproc | None,
                     extra: tuple[str, ...] = ()) -> Callable[[Path], Job]:
    """batchproc resize of the image task into a fresh folder, by one install."""
    def prepare(run: Path) -> Job:
        out = run / "out"
        args = ["resize", str(src), "--out", str(out), "--size", "{}x{}".format(*SIZE), "--quality", str(QUALITY),
                "--jobs", str(jobs), *(["--engine", engine] if engine else []), *extra]
        return batchproc_job(cfg, args, out, bp=bp)

    return prepare


def batchproc_rows(cfg: Config, src: Path, kind: str, bp: Batchproc | None, headline: bool) -> list[Contender]:
    """One install's rows: --jobs 2 (and --jobs 1 for the first install), and --engine pillow
    where the auto engine may be libvips."""
    skip = no_resize(bp)

    def row(jobs: int, engine: str | None, role: str = "", compare: tuple[Comparison, ...] = ()) -> Contender:
        return Contender("image", resize_name(kind, jobs, engine), batchproc_resize(cfg, src, jobs, engine, bp), skip,
                         role=role, compare=compare, after=bp and note_engine(cfg, bp, src, engine))

    # Without pyvips the auto engine is Pillow, so the plain install's row also answers 14.2.
    rows = [row(JOBS, None, "batchproc" if headline else "", (VS_SHARP, VS_POOL) if kind == "plain" else (VS_SHARP,))]
    if headline:
        rows.append(row(1, None, "batchproc-j1"))
    if kind != "plain":
        rows.append(row(JOBS, "pillow", compare=(VS_POOL,)))
    return rows


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
    no_sharp = "" if "libvips" in sharp_version(cfg.peers) else f"node or sharp missing under {cfg.peers / 'sharp'}"
    no_pil = "" if python_imports("PIL") else "Pillow not importable"
    no_vips = "" if python_imports("pyvips") else "pyvips not importable (pip install pyvips pyvips-binary)"
    magick = f"mogrify -path {{out}} -filter Lanczos -resize {size} -quality {QUALITY}"
    gm = f"gm mogrify -output-directory {{out}} -filter Lanczos -resize {size} -quality {QUALITY}"
    rows = [row for i, (kind, bp) in enumerate(installs(cfg)) for row in batchproc_rows(cfg, src, kind, bp, i == 0)]
    return rows + [
        Contender("image", SHARP, sharp(cfg, src), no_sharp, role="sharp"),
        Contender("image", PILLOW_POOL, bare_pool(src, PILLOW_SCRIPT, JOBS), no_pil, role="pool"),
        Contender("image", PILLOW_POOL_1, bare_pool(src, PILLOW_SCRIPT, 1), no_pil, role="pool-j1"),
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


def xargs_sha(task: str, src: Path) -> Contender:
    return Contender(task, XARGS_SHA,
                     lambda run: Job(bash(f"find {q(src)} -type f -print0 | xargs -0 -P{JOBS} -n 1000 sha256sum")),
                     missing_tools("sha256sum", "xargs"))


def many_small_contenders(cfg: Config, src: Path) -> list[Contender]:
    """The small-file checksum over 200,000 files: batchproc against xargs (14.3: at most 1.5x)."""
    return [
        Contender("manysmall", CHECKSUM, lambda run: batchproc_job(cfg, ["checksum", str(src)]), no_batchproc(cfg),
                  role="batchproc", compare=(VS_XARGS_MANY,)),
        xargs_sha("manysmall", src),
    ]


def small_contenders(cfg: Config, src: Path, tenth: list[Path]) -> list[Contender]:
    """Contenders of the small-file checksum task; all write their manifest to /dev/null."""
    return [
        Contender("small", CHECKSUM, lambda run: batchproc_job(cfg, ["checksum", str(src)]), no_batchproc(cfg),
                  role="batchproc", compare=(VS_XARGS,), after=verify_manifest(cfg, src)),
        # With one worker: if it is hardly slower, the parent, not hashing, sets the pace.
        Contender("small", CHECKSUM_J1, lambda run: batchproc_job(cfg, ["checksum", str(src), "--jobs", "1"]),
                  no_batchproc(cfg)),
        # The same over a tenth of the files: start-up, the worker server and the workers cost
        # the same in both, so the difference is the other nine tenths' own cost (targets 14.3,
        # CPU per file).
        Contender("small", CHECKSUM_TENTH, lambda run: batchproc_job(cfg, ["checksum", *map(str, tenth)]),
                  no_batchproc(cfg)),
        xargs_sha("small", src),
        Contender("small", "find -print0 | parallel -0 -j2 -X sha256sum",
                  lambda run: Job(bash(f"find {q(src)} -type f -print0 | parallel --will-cite -0 -j{JOBS} -X sha256sum")),
                  missing_tools("sha256sum", "parallel")),
    ]
