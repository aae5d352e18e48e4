#!/usr/bin/env python3
"""Benchmark batchproc against its peers and print one table of medians, ratios and PSNR.

Usage: python bench/run.py [--rounds N] [--only image,small,startup,memory,incremental|all]
                           [--skip-slow] [--image PATH] [--json FILE] [--bench-dir DIR]

Tasks (default: image,small,startup; memory and incremental only when asked for):
  image        100 copies of the 2725x2225 sharp benchmark JPEG -> 720x588 Lanczos, JPEG q80,
               2 workers per contender; PSNR against a full-resolution Pillow LANCZOS reference.
  small        sha256 of 20,000 files of 1-4 KB: batchproc checksum vs xargs -P2 / GNU parallel.
  startup      batchproc --help and batchproc resize on an empty folder.
  memory       batchproc checksum over 200,000 empty files: parent peak RSS, time to first line.
  incremental  batchproc resize over 10,000 small JPEGs, then again over the unchanged tree.

Contenders run round-robin (one run of each per round, starting point rotated every round),
and the table reports wall-clock medians. A contender whose tool is missing is skipped with a note.
See bench/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
DEFAULT_IMAGE = REPO.parent / "shared" / "bench" / "sharp-bench-2725x2225.jpg"
DEFAULT_PEERS = Path(os.environ.get("BATCHPROC_PEERS_DIR", REPO.parent / "peers"))
SIZE = (720, 588)
QUALITY = 80
JOBS = 2
JOB_TIMEOUT = 900
ALL_TASKS = ("image", "small", "startup", "memory", "incremental")
DEFAULT_TASKS = ("image", "small", "startup")
IMAGE_SUFFIXES = (".jpg", ".jpeg")


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Config:
    """Everything the command line decides."""

    rounds: int
    slow_rounds: int
    skip_slow: bool
    tasks: tuple[str, ...]
    image: Path
    bench_dir: Path
    peers: Path
    copies: int
    small_files: int
    memory_files: int
    incremental_files: int
    batchproc: Batchproc | None
    batchproc_note: str
    json_path: Path | None


@dataclass(frozen=True)
class Batchproc:
    """How to start batchproc on this machine."""

    argv: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class Job:
    """One timed command, prepared (untimed) for one round."""

    argv: list[str]
    out_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True)
class Contender:
    """A competitor in one task; `prepare(run_dir)` does untimed setup and returns the Job."""

    task: str
    name: str
    prepare: Callable[[Path], Job] | None
    skip: str = ""
    slow: bool = False
    role: str = ""  # "batchproc" or "sharp": the reference columns of the table


@dataclass
class Result:
    """Timings and notes gathered for one contender."""

    contender: Contender
    files: int = 0
    times: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False
    last_out: Path | None = None
    psnr: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        """Median wall time, or None without a successful run."""
        return statistics.median(self.times) if self.times else None


# ---------------------------------------------------------------- helpers


def run_quiet(argv: list[str], env: dict[str, str] | None = None, timeout: int = 60) -> subprocess.CompletedProcess | None:
    """Run a short command for information; None if it cannot start."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    except (OSError, subprocess.TimeoutExpired):
        return None


def first_line(argv: list[str], env: dict[str, str] | None = None) -> str:
    """First non-empty output line of a version command, or 'missing'."""
    proc = run_quiet(argv, env)
    if proc is None:
        return "missing"
    text = (proc.stdout or "") + (proc.stderr or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else f"exit {proc.returncode}"


def have(tool: str) -> bool:
    """True if an executable is on PATH."""
    return shutil.which(tool) is not None


def missing_tools(*tools: str) -> str:
    """A skip note naming the tools that are not on PATH, or ''."""
    gone = [t for t in tools if not have(t)]
    return f"{', '.join(gone)} not found (bench/install-peers.sh installs it)" if gone else ""


def python_imports(module: str) -> bool:
    """True if this Python can import `module` (checked in a child process)."""
    proc = run_quiet([sys.executable, "-c", f"import {module}"])
    return proc is not None and proc.returncode == 0


def bash(script: str) -> list[str]:
    """argv for a bash pipeline that fails if any stage fails."""
    return ["bash", "-c", "set -o pipefail; " + script]


def q(path: Path | str) -> str:
    """Shell-quote a path."""
    return shlex.quote(str(path))


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


def fmt(value: float | None, spec: str) -> str:
    """Format a number or a dash."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


# ---------------------------------------------------------------- batchproc discovery


def find_batchproc(override: str | None) -> tuple[Batchproc | None, str]:
    """Locate a working batchproc command: --batchproc, then PATH, then `python -m batchproc`."""
    candidates = []
    if override:
        candidates.append(Batchproc(tuple(shlex.split(override)), {}))
    else:
        if have("batchproc"):
            candidates.append(Batchproc((shutil.which("batchproc"),), {}))
        pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        candidates.append(Batchproc((sys.executable, "-m", "batchproc"), {"PYTHONPATH": pythonpath}))
    errors = []
    for cand in candidates:
        proc = run_quiet([*cand.argv, "--help"], cand.env)
        if proc is not None and proc.returncode == 0:
            return cand, " ".join(cand.argv)
        detail = "cannot start" if proc is None else f"exit {proc.returncode}: {tail(proc.stderr)}"
        errors.append(f"`{' '.join(cand.argv)} --help` {detail}")
    return None, "batchproc not available yet (" + "; ".join(errors) + ")"


def tail(text: str | bytes | None, limit: int = 160) -> str:
    """Last line of some output, shortened."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[-limit:]


def no_batchproc(cfg: Config) -> str:
    """Skip note for batchproc contenders: '' when batchproc works."""
    return "" if cfg.batchproc else "batchproc not available (see note above the table)"


def batchproc_job(cfg: Config, args: list[str], out_dir: Path | None = None, cwd: Path | None = None) -> Job:
    """A Job running batchproc with the given arguments."""
    return Job([*cfg.batchproc.argv, *args], out_dir=out_dir, env=dict(cfg.batchproc.env), cwd=cwd)


# ---------------------------------------------------------------- machine


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total() -> str:
    """MemTotal from /proc/meminfo in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def pillow_versions() -> str:
    """Pillow and its libjpeg-turbo version."""
    try:
        import PIL
        from PIL import features

        return f"{PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')})"
    except ImportError:
        return "missing"


def pyvips_version() -> str:
    """pyvips and the libvips it loads."""
    code = "import pyvips; print(pyvips.__version__, 'libvips', '.'.join(str(pyvips.version(i)) for i in range(3)))"
    return first_line([sys.executable, "-c", code])


def sharp_version(peers: Path) -> str:
    """sharp and its bundled libvips, as node reports them."""
    code = (
        "const s=require(require.resolve('sharp',{paths:[process.argv[1]]}));"
        "console.log(s.versions.sharp+' (libvips '+s.versions.vips+')')"
    )
    return first_line(["node", "-e", code, str(peers / "sharp")]) if have("node") else "missing"


def machine_info(cfg: Config) -> dict[str, str]:
    """What this machine is and which versions of every contender it has."""
    try:
        import numpy

        numpy_version = numpy.__version__
    except ImportError:
        numpy_version = "missing"
    info = {
        "cores": f"nproc {os.cpu_count()}, usable {len(os.sched_getaffinity(0))}",
        "cpu": cpu_model(),
        "memory": mem_total(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({sys.executable})",
        "Pillow": pillow_versions(),
        "numpy": numpy_version,
        "pyvips": pyvips_version(),
        "node": first_line(["node", "--version"]),
        "sharp": sharp_version(cfg.peers),
        "vipsthumbnail": first_line(["vipsthumbnail", "--vips-version"]),
        "ImageMagick": first_line(["mogrify", "-version"]),
        "GraphicsMagick": first_line(["gm", "version"]),
        "GNU parallel": first_line(["parallel", "--version"]),
        "imgp": first_line(["imgp", "--version"]),
        "sha256sum": first_line(["sha256sum", "--version"]),
        "batchproc": cfg.batchproc_note,
    }
    if cfg.batchproc:
        info["batchproc version"] = first_line([*cfg.batchproc.argv, "--version"], cfg.batchproc.env)
    return info


def print_machine(info: dict[str, str]) -> None:
    """Print the machine block at the top of the report."""
    width = max(len(k) for k in info)
    print("Machine")
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")
    print()


# ---------------------------------------------------------------- inputs


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


def build_image_inputs(cfg: Config) -> Path:
    """N copies of the benchmark JPEG in one folder."""
    stat = cfg.image.stat()
    spec = {"image": str(cfg.image), "bytes": stat.st_size, "mtime": stat.st_mtime, "copies": cfg.copies}

    def build(root: Path) -> None:
        for i in range(cfg.copies):
            shutil.copyfile(cfg.image, root / f"img{i:03d}.jpg")

    return cached_build(cfg.bench_dir / "inputs" / "image", spec, build)


def build_small_inputs(cfg: Config) -> Path:
    """Files of 1-4 KB of random bytes, 1,000 per subfolder."""
    spec = {"files": cfg.small_files, "seed": 1, "per_dir": 1000}

    def build(root: Path) -> None:
        rng = random.Random(1)
        for i in range(cfg.small_files):
            sub = root / f"d{i // 1000:02d}"
            sub.mkdir(exist_ok=True)
            (sub / f"f{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(1024, 4096)))

    return cached_build(cfg.bench_dir / "inputs" / "small", spec, build)


def build_empty_files(cfg: Config) -> Path:
    """Empty files, 1,000 per subfolder, for the memory task."""
    spec = {"files": cfg.memory_files, "per_dir": 1000}

    def build(root: Path) -> None:
        for i in range(cfg.memory_files):
            sub = root / f"d{i // 1000:03d}"
            if i % 1000 == 0:
                sub.mkdir()
            (sub / f"e{i:06d}.txt").touch()

    return cached_build(cfg.bench_dir / "inputs" / "empty-files", spec, build)


def build_small_jpegs(cfg: Config) -> Path:
    """Distinct 64x64 JPEGs (noise over a gradient), 1,000 per subfolder."""
    from PIL import Image

    spec = {"files": cfg.incremental_files, "size": 64, "seed": 2}

    def build(root: Path) -> None:
        rng = random.Random(2)
        base = Image.linear_gradient("L").resize((64, 64)).convert("RGB")
        for i in range(cfg.incremental_files):
            sub = root / f"d{i // 1000:02d}"
            sub.mkdir(exist_ok=True)
            noise = Image.frombytes("RGB", (64, 64), rng.randbytes(64 * 64 * 3))
            Image.blend(base, noise, 0.35).save(sub / f"i{i:05d}.jpg", quality=90)

    return cached_build(cfg.bench_dir / "inputs" / "incremental", spec, build)


# ---------------------------------------------------------------- contenders


def image_contenders(cfg: Config, src: Path) -> list[Contender]:
    """All contenders of the image task, with skip notes for missing tools."""
    w, h = SIZE
    size = f"{w}x{h}"
    pyexe = sys.executable
    vips_out = "%s.jpg[Q=" + str(QUALITY) + "]"

    def batchproc(jobs: int) -> Callable[[Path], Job]:
        def prepare(run: Path) -> Job:
            out = run / "out"
            args = ["resize", str(src), "--out", str(out), "--size", size, "--quality", str(QUALITY), "--jobs", str(jobs)]
            return batchproc_job(cfg, args, out)

        return prepare

    def script(name: str) -> Callable[[Path], Job]:
        def prepare(run: Path) -> Job:
            out = run / "out"
            argv = [pyexe, str(BENCH / name), str(src), str(out), "--size", size, "--quality", str(QUALITY), "--jobs", str(JOBS)]
            return Job(argv, out)

        return prepare

    def sharp(run: Path) -> Job:
        out = run / "out"
        argv = ["node", str(BENCH / "sharp_resize.js"), str(src), str(out), size, str(QUALITY), str(JOBS)]
        env = {"UV_THREADPOOL_SIZE": str(JOBS), "SHARP_DIR": str(cfg.peers / "sharp")}
        return Job(argv, out, env)

    def xargs(cmd: str, env: dict[str, str], per_call: int = 50) -> Callable[[Path], Job]:
        def prepare(run: Path) -> Job:
            out = fresh_dir(run / "out")
            line = (f"find . -maxdepth 1 -name '*.jpg' -print0 | xargs -0 -P{JOBS} -n {per_call} "
                    + cmd.format(out=q(out), vips_out=q(f"{out}/{vips_out}")))
            return Job(bash(line), out, env, cwd=src)

        return prepare

    def parallel_vips(run: Path) -> Job:
        out = fresh_dir(run / "out")
        line = (f"find . -maxdepth 1 -name '*.jpg' -print0 | parallel --will-cite -0 -j{JOBS} -q "
                f"vipsthumbnail {{}} --size {size} -o {q(f'{out}/{vips_out}')}")
        return Job(bash(line), out, {"VIPS_CONCURRENCY": "1"}, cwd=src)

    def imgp(run: Path) -> Job:
        work = run / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        return Job(["imgp", "-x", size, "-q", str(QUALITY), "-m", "-w", str(work)], work)

    no_bp = no_batchproc(cfg)
    no_sharp = "" if "libvips" in sharp_version(cfg.peers) else f"node or sharp missing under {cfg.peers / 'sharp'}"
    return [
        Contender("image", "batchproc --jobs 2", batchproc(2), no_bp, role="batchproc"),
        Contender("image", "batchproc --jobs 1", batchproc(1), no_bp),
        Contender("image", "sharp (node, 2 in flight)", sharp, no_sharp, role="sharp"),
        Contender("image", "bare Pillow Pool(2) draft+LANCZOS", script("bare_pillow_pool.py"),
                  "" if python_imports("PIL") else "Pillow not importable"),
        Contender("image", "bare pyvips Pool(2) shrink+lanczos3", script("bare_pyvips_pool.py"),
                  "" if python_imports("pyvips") else "pyvips not importable (pip install pyvips pyvips-binary)"),
        Contender("image", "vipsthumbnail | xargs -P2", xargs(f"vipsthumbnail --size {size} -o {{vips_out}}", {"VIPS_CONCURRENCY": "1"}),
                  missing_tools("vipsthumbnail", "xargs")),
        Contender("image", "vipsthumbnail | parallel -j2", parallel_vips, missing_tools("vipsthumbnail", "parallel")),
        Contender("image", "imgp (Pool of nproc)", imgp, missing_tools("imgp")),
        Contender("image", "ImageMagick mogrify | xargs -P2",
                  xargs(f"mogrify -path {{out}} -filter Lanczos -resize {size} -quality {QUALITY}", {"MAGICK_THREAD_LIMIT": "1"}),
                  missing_tools("mogrify", "xargs"), slow=True),
        Contender("image", "GraphicsMagick mogrify | xargs -P2",
                  xargs(f"gm mogrify -output-directory {{out}} -filter Lanczos -resize {size} -quality {QUALITY}", {"OMP_NUM_THREADS": "1"}),
                  missing_tools("gm", "xargs"), slow=True),
    ]


def small_contenders(cfg: Config, src: Path) -> list[Contender]:
    """Contenders of the small-file checksum task; all write their manifest to /dev/null."""
    no_bp = no_batchproc(cfg)
    return [
        Contender("small", "batchproc checksum", lambda run: batchproc_job(cfg, ["checksum", str(src)]), no_bp, role="batchproc"),
        Contender("small", "find -print0 | xargs -0 -P2 -n 1000 sha256sum",
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
        Contender("startup", "batchproc --help", lambda run: batchproc_job(cfg, ["--help"]), no_bp, role="batchproc"),
        Contender("startup", "batchproc resize EMPTY --out OUT2",
                  lambda run: batchproc_job(cfg, ["resize", str(empty), "--out", str(run / "out2")]), no_bp),
        Contender("startup", "python -c pass (floor)", lambda run: Job([sys.executable, "-c", "pass"])),
    ]


# ---------------------------------------------------------------- running


def time_job(job: Job) -> tuple[float, subprocess.CompletedProcess | None, str]:
    """Run one job with stdout to /dev/null; wall time, process, error text."""
    env = {**os.environ, **job.env}
    started = time.perf_counter()
    try:
        proc = subprocess.run(job.argv, cwd=job.cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None, f"timed out after {JOB_TIMEOUT} s"
    except OSError as err:
        return time.perf_counter() - started, None, str(err)
    elapsed = time.perf_counter() - started
    error = "" if proc.returncode == 0 else f"exit {proc.returncode}: {tail(proc.stderr)}"
    return elapsed, proc, error


def rounds_for(cfg: Config, contender: Contender) -> int:
    """How many rounds a contender gets."""
    if contender.skip:
        return 0
    if contender.slow:
        return 0 if cfg.skip_slow else min(cfg.slow_rounds, cfg.rounds)
    return cfg.rounds


def run_once(result: Result, run_dir: Path) -> None:
    """Prepare (untimed), time and record one run of a contender."""
    job = result.contender.prepare(run_dir)
    elapsed, _, error = time_job(job)
    if error:
        result.failed = True
        result.notes.append(f"failed: {error}")
        return
    result.times.append(elapsed)
    if job.out_dir is not None:
        if result.last_out and result.last_out != job.out_dir:
            shutil.rmtree(result.last_out.parent, ignore_errors=True)
        result.last_out = job.out_dir


def run_round_robin(cfg: Config, contenders: list[Contender], runs_root: Path, rounds: int | None = None,
                    files: int = 0) -> list[Result]:
    """Run the contenders alternately, one run each per round, rotating who goes first."""
    results = [Result(c, files=files) for c in contenders]
    counts = [rounds if rounds is not None and not c.skip else rounds_for(cfg, c) for c in contenders]
    for rnd in range(max(counts, default=0)):
        shift = rnd % len(results)
        order = list(range(shift, len(results))) + list(range(shift))
        for i in order:
            res = results[i]
            if rnd < counts[i] and not res.failed:
                print(f"  round {rnd + 1}: {res.contender.name}", end="", flush=True)
                run_once(res, runs_root / slug(res.contender.name) / f"r{rnd}")
                print(f"  {res.times[-1]:.3f} s" if not res.failed else f"  {res.notes[-1]}", flush=True)
    for res, count in zip(results, counts):
        annotate(cfg, res, count)
    return results


def annotate(cfg: Config, res: Result, count: int) -> None:
    """Add skip and round-count notes."""
    c = res.contender
    if c.skip:
        res.notes.insert(0, f"skipped: {c.skip}")
    elif c.slow and cfg.skip_slow:
        res.notes.insert(0, "skipped: --skip-slow")
    elif c.slow:
        res.notes.insert(0, f"slow: {count} round(s)")


def slug(name: str) -> str:
    """A folder name for a contender."""
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")[:60]


def check_outputs(results: list[Result], expected: int) -> None:
    """Note contenders whose last run wrote the wrong number of images."""
    for res in results:
        if res.times and res.last_out is not None:
            got = count_files(res.last_out)
            if got != expected:
                res.notes.append(f"{got}/{expected} outputs")


# ---------------------------------------------------------------- quality


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


# ---------------------------------------------------------------- task-specific checks


def manifest_hashes(text: str) -> list[str]:
    """Sorted first fields of a sha256sum-format manifest."""
    return sorted(line.split()[0].lstrip("\\") for line in text.splitlines() if line.strip())


def verify_checksum(cfg: Config, res: Result, src: Path) -> None:
    """Untimed: batchproc's manifest must list the same digests as hashlib."""
    if not res.times:
        return
    job = batchproc_job(cfg, ["checksum", str(src)])
    proc = subprocess.run(job.argv, env={**os.environ, **job.env}, capture_output=True, text=True, timeout=JOB_TIMEOUT)
    want = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in src.rglob("*") if p.is_file())
    got = manifest_hashes(proc.stdout)
    res.notes.append("manifest ok" if got == want else f"manifest mismatch: {len(got)} lines, {len(want)} files")


def watch_peak_rss(pid: int, stop: threading.Event, box: dict) -> None:
    """Poll VmHWM (peak RSS) of one process until it ends."""
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    box["kb"] = max(box.get("kb", 0), int(line.split()[1]))
        except (OSError, ValueError):
            return
        stop.wait(0.01)


def run_memory_once(job: Job) -> dict:
    """Run batchproc checksum streaming its output: wall time, first-line time, parent peak RSS."""
    box: dict = {}
    stop = threading.Event()
    started = time.perf_counter()
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(job.argv, env={**os.environ, **job.env}, stdout=subprocess.PIPE, stderr=errors)
    watcher = threading.Thread(target=watch_peak_rss, args=(proc.pid, stop, box), daemon=True)
    watcher.start()
    first = proc.stdout.readline()
    first_at = time.perf_counter() - started if first else None
    lines = 1 if first else 0
    for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):
        lines += chunk.count(b"\n")
    code = proc.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    watcher.join()
    proc.stdout.close()
    errors.seek(0)
    error = tail(errors.read()) if code else ""
    errors.close()
    return {"wall": elapsed, "first_line": first_at, "peak_rss_mb": box.get("kb", 0) / 1024, "lines": lines, "exit": code,
            "error": error}


def memory_task(cfg: Config) -> list[Result]:
    """Walk and checksum many empty files; report parent peak RSS and time to first result."""
    res = Result(Contender("memory", "batchproc checksum (200k empty)", None, no_batchproc(cfg), role="batchproc"), files=cfg.memory_files)
    if res.contender.skip:
        res.notes.append(f"skipped: {res.contender.skip}")
        return [res]
    src = build_empty_files(cfg)
    runs = []
    for rnd in range(min(cfg.rounds, 3)):
        run = run_memory_once(batchproc_job(cfg, ["checksum", str(src)]))
        print(f"  round {rnd + 1}: {run}", flush=True)
        if run["exit"] != 0:
            res.failed = True
            res.notes.append(f"failed: exit {run['exit']}: {run['error']}")
            break
        runs.append(run)
        res.times.append(run["wall"])
    if runs:
        res.extra = {"runs": runs, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                     "first_line_s": statistics.median(r["first_line"] or math.inf for r in runs)}
        res.notes.append(f"parent peak RSS {res.extra['peak_rss_mb']:.1f} MB, first line {res.extra['first_line_s']:.3f} s, "
                         f"{runs[-1]['lines']} lines")
    return [res]


def incremental_task(cfg: Config) -> list[Result]:
    """Resize many small JPEGs into a fresh folder, then re-run over the unchanged tree."""
    skip = no_batchproc(cfg)
    first = Result(Contender("incremental", "batchproc resize (first run)", None, skip, role="batchproc"),
                   files=cfg.incremental_files)
    again = Result(Contender("incremental", "batchproc resize (re-run, unchanged)", None, skip), files=cfg.incremental_files)
    if skip:
        first.notes.append(f"skipped: {skip}")
        again.notes.append(f"skipped: {skip}")
        return [first, again]
    src = build_small_jpegs(cfg)
    root = cfg.bench_dir / "runs" / "incremental"
    for rnd in range(min(cfg.rounds, 3)):
        out = fresh_dir(root / f"r{rnd}") / "out"
        job = batchproc_job(cfg, ["resize", str(src), "--out", str(out), "--size", "32x32", "--quality", str(QUALITY), "--jobs", str(JOBS)], out)
        for res in (first, again):
            elapsed, _, error = time_job(job)
            if error:
                res.failed = True
                res.notes.append(f"failed: {error}")
                return [first, again]
            res.times.append(elapsed)
        print(f"  round {rnd + 1}: first {first.times[-1]:.3f} s, re-run {again.times[-1]:.3f} s", flush=True)
        first.last_out = out
    got = count_files(first.last_out)
    if got != cfg.incremental_files:
        first.notes.append(f"{got}/{cfg.incremental_files} outputs")
    return [first, again]


# ---------------------------------------------------------------- tasks


def image_task(cfg: Config) -> list[Result]:
    """The sharp benchmark JPEG task over N copies, 2 workers each, with PSNR."""
    src = build_image_inputs(cfg)
    results = run_round_robin(cfg, image_contenders(cfg, src), fresh_dir(cfg.bench_dir / "runs" / "image"), files=cfg.copies)
    check_outputs(results, cfg.copies)
    measure_quality(results, cfg.image)
    return results


def small_task(cfg: Config) -> list[Result]:
    """sha256 over many 1-4 KB files, manifest to /dev/null."""
    src = build_small_inputs(cfg)
    results = run_round_robin(cfg, small_contenders(cfg, src), fresh_dir(cfg.bench_dir / "runs" / "small"), files=cfg.small_files)
    for res in results:
        if res.contender.role == "batchproc":
            verify_checksum(cfg, res, src)
    return results


def startup_task(cfg: Config) -> list[Result]:
    """Start-up cost: --help and a resize of an empty folder."""
    empty = fresh_dir(cfg.bench_dir / "inputs" / "empty-dir")
    return run_round_robin(cfg, startup_contenders(cfg, empty), fresh_dir(cfg.bench_dir / "runs" / "startup"),
                           rounds=max(cfg.rounds * 4, 10))


TASKS: dict[str, Callable[[Config], list[Result]]] = {
    "image": image_task,
    "small": small_task,
    "startup": startup_task,
    "memory": memory_task,
    "incremental": incremental_task,
}


# ---------------------------------------------------------------- report


def reference_median(results: list[Result], role: str) -> float | None:
    """Median of the contender playing `role` in the same task."""
    return next((r.median for r in results if r.contender.role == role and r.median), None)


def table_rows(task_results: dict[str, list[Result]]) -> list[list[str]]:
    """Rows of the summary table."""
    rows = []
    for task, results in task_results.items():
        bp = reference_median(results, "batchproc") if task != "startup" else None
        sharp = reference_median(results, "sharp")
        for res in results:
            med = res.median
            rate = res.files / med if med and res.files else None
            rows.append([
                task, res.contender.name, str(len(res.times)), fmt(med, ".3f"),
                fmt(min(res.times) if res.times else None, ".3f"), fmt(rate, ",.0f"),
                fmt(med / bp if med and bp else None, ".2f"), fmt(med / sharp if med and sharp else None, ".2f"),
                fmt(res.psnr, ".2f"), "; ".join(res.notes),
            ])
    return rows


def print_table(rows: list[list[str]]) -> None:
    """Print rows under a header with aligned columns."""
    header = ["task", "contender", "runs", "median s", "min s", "files/s", "t/t_batchproc", "t/t_sharp", "PSNR dB", "notes"]
    numeric = {2, 3, 4, 5, 6, 7, 8}
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts + [cells[-1]]).rstrip()

    print(line(header))
    print(line(["-" * w for w in widths] + ["-----"]))
    for row in rows:
        print(line(row))
    print()
    print("t/t_X = this contender's median wall time divided by X's (same task): above 1 is slower than X.")
    print("PSNR: RGB, against a full-resolution Pillow LANCZOS resize of the original (no draft), first copy.")


def find_result(task_results: dict[str, list[Result]], task: str, name: str) -> Result | None:
    """A result by task and contender name."""
    return next((r for r in task_results.get(task, []) if r.contender.name == name and r.times), None)


def evaluate_targets(task_results: dict[str, list[Result]]) -> list[tuple[str, str, str]]:
    """The issue's targets for the tasks that ran: (target, measured, PASS/FAIL/n/a)."""
    out = []

    def add(target: str, measured: float | None, ok: Callable[[float], bool], unit: str) -> None:
        if target.split(":")[0] not in task_results:
            return
        if measured is None:
            out.append((target, "-", "n/a"))
        else:
            out.append((target, f"{measured:.3f}{unit}", "PASS" if ok(measured) else "FAIL"))

    def get(task: str, name: str, attr: str = "median", key: str = "") -> float | None:
        res = find_result(task_results, task, name)
        value = getattr(res, attr) if res else None
        return value.get(key) if key and value is not None else value

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    j2, j1 = get("image", "batchproc --jobs 2"), get("image", "batchproc --jobs 1")
    sharp, pil = get("image", "sharp (node, 2 in flight)"), get("image", "bare Pillow Pool(2) draft+LANCZOS")
    psnr_bp, psnr_sharp = get("image", "batchproc --jobs 2", "psnr"), get("image", "sharp (node, 2 in flight)", "psnr")
    add("image: batchproc --jobs 2 throughput >= sharp (t_sharp/t_batchproc)", ratio(sharp, j2), lambda v: v >= 1, "x")
    add("image: PSNR batchproc - PSNR sharp >= -0.3 dB",
        psnr_bp - psnr_sharp if psnr_bp is not None and psnr_sharp is not None else None, lambda v: v >= -0.3, " dB")
    add("image: overhead vs bare Pillow Pool <= 5% (t_batchproc/t_pillow)", ratio(j2, pil), lambda v: v <= 1.05, "x")
    add("image: --jobs 2 >= 1.9x --jobs 1 (t_j1/t_j2)", ratio(j1, j2), lambda v: v >= 1.9, "x")
    add("small: checksum no slower than xargs -P2 sha256sum (t_batchproc/t_xargs)",
        ratio(get("small", "batchproc checksum"), get("small", "find -print0 | xargs -0 -P2 -n 1000 sha256sum")),
        lambda v: v <= 1.0, "x")
    add("startup: batchproc --help <= 0.25 s", get("startup", "batchproc --help"), lambda v: v <= 0.25, " s")
    add("startup: batchproc resize EMPTY <= 0.25 s", get("startup", "batchproc resize EMPTY --out OUT2"), lambda v: v <= 0.25, " s")
    mem = "batchproc checksum (200k empty)"
    add("memory: parent peak RSS < 100 MB", get("memory", mem, "extra", "peak_rss_mb"), lambda v: v < 100, " MB")
    add("memory: first result within 1 s", get("memory", mem, "extra", "first_line_s"), lambda v: v <= 1.0, " s")
    add("incremental: re-run <= 5% of first run (t_rerun/t_first)",
        ratio(get("incremental", "batchproc resize (re-run, unchanged)"), get("incremental", "batchproc resize (first run)")),
        lambda v: v <= 0.05, "x")
    return out


def print_targets(targets: list[tuple[str, str, str]]) -> None:
    """Print the target checklist."""
    if not targets:
        return
    width = max(len(t[0]) for t in targets)
    print("\nTargets (from the performance issue)")
    for target, measured, verdict in targets:
        print(f"  {target:<{width}}  {measured:>10}  {verdict}")


def save_json(cfg: Config, machine: dict, task_results: dict[str, list[Result]], targets: list) -> None:
    """Write raw timings and notes to --json FILE."""
    data = {
        "machine": machine,
        "config": {"rounds": cfg.rounds, "slow_rounds": cfg.slow_rounds, "skip_slow": cfg.skip_slow, "image": str(cfg.image),
                   "copies": cfg.copies, "small_files": cfg.small_files, "memory_files": cfg.memory_files,
                   "incremental_files": cfg.incremental_files, "size": list(SIZE), "quality": QUALITY, "jobs": JOBS},
        "results": {
            task: [{"contender": r.contender.name, "times": r.times, "median": r.median, "files": r.files, "psnr": r.psnr,
                    "notes": r.notes, "extra": r.extra} for r in results]
            for task, results in task_results.items()
        },
        "targets": [{"target": t, "measured": m, "verdict": v} for t, m, v in targets],
    }
    cfg.json_path.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nraw timings written to {cfg.json_path}")


# ---------------------------------------------------------------- main


def parse_tasks(text: str) -> tuple[str, ...]:
    """Comma-separated task names, or 'all'."""
    names = ALL_TASKS if text == "all" else tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in names if t not in ALL_TASKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown task(s) {unknown}; choose from {', '.join(ALL_TASKS)} or all")
    return names


def parse_args(argv: list[str] | None = None) -> Config:
    """Command line to Config."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See bench/README.md.")
    ap.add_argument("--rounds", type=int, default=5, help="rounds for fast contenders (default 5; start-up gets 4x)")
    ap.add_argument("--slow-rounds", type=int, default=1, help="rounds for slow contenders: mogrify, gm (default 1)")
    ap.add_argument("--skip-slow", action="store_true", help="skip ImageMagick and GraphicsMagick")
    ap.add_argument("--only", type=parse_tasks, default=DEFAULT_TASKS,
                    help=f"comma-separated tasks from {','.join(ALL_TASKS)}, or all (default {','.join(DEFAULT_TASKS)})")
    ap.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="source JPEG (default ../shared/bench/sharp-bench-2725x2225.jpg)")
    ap.add_argument("--bench-dir", type=Path, default=Path(os.environ.get("BENCH_DIR", "/tmp/batchproc-bench")),
                    help="scratch folder for inputs and outputs (default $BENCH_DIR or /tmp/batchproc-bench)")
    ap.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS, help="where install-peers.sh put sharp (default $BATCHPROC_PEERS_DIR or ../peers)")
    ap.add_argument("--batchproc", help="command that starts batchproc (default: batchproc on PATH, else python -m batchproc)")
    ap.add_argument("--copies", type=int, default=100, help="image task: copies of the JPEG (default 100)")
    ap.add_argument("--small-files", type=int, default=20_000, help="small task: number of files (default 20000)")
    ap.add_argument("--memory-files", type=int, default=200_000, help="memory task: number of empty files (default 200000)")
    ap.add_argument("--incremental-files", type=int, default=10_000, help="incremental task: number of JPEGs (default 10000)")
    ap.add_argument("--json", type=Path, help="also write raw timings to this file")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.slow_rounds < 1:
        ap.error("--rounds and --slow-rounds must be at least 1")
    if "image" in a.only and not a.image.is_file():
        ap.error(f"image not found: {a.image} (use --image PATH)")
    found, note = find_batchproc(a.batchproc)
    return Config(a.rounds, a.slow_rounds, a.skip_slow, a.only, a.image.resolve(), a.bench_dir.resolve(), a.peers_dir.resolve(),
                  a.copies, a.small_files, a.memory_files, a.incremental_files, found, note, a.json)


def main(argv: list[str] | None = None) -> int:
    """Run the selected tasks and print the report."""
    cfg = parse_args(argv)
    machine = machine_info(cfg)
    print_machine(machine)
    if not cfg.batchproc:
        print(f"note: {cfg.batchproc_note}; its contenders are skipped\n")
    cfg.bench_dir.mkdir(parents=True, exist_ok=True)
    task_results = {}
    for task in cfg.tasks:
        print(f"== {task}", flush=True)
        task_results[task] = TASKS[task](cfg)
    print()
    print_table(table_rows(task_results))
    targets = evaluate_targets(task_results)
    print_targets(targets)
    if cfg.json_path:
        save_json(cfg, machine, task_results, targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
