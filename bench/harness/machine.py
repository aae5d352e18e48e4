"""The machine block: hardware, load, and the version of every contender."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from .config import REPO, Config
from .tools import first_line, have, run_quiet


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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the neighbours were."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def pillow_versions() -> str:
    """Pillow and its libjpeg-turbo version."""
    try:
        import PIL
        from PIL import features

        return f"{PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')})"
    except ImportError:
        return "missing"


def numpy_version() -> str:
    """numpy's version (used for PSNR), or 'missing'."""
    try:
        import numpy

        return numpy.__version__
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


def repository_state() -> str:
    """The commit benchmarked, and whether batchproc's own files differ from it."""
    rev = run_quiet(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    if rev is None or rev.returncode:
        return "not a git checkout"
    # Other people's uncommitted edits to the package are what an editable install runs.
    status = run_quiet(["git", "-C", str(REPO), "status", "--porcelain", "--", "batchproc", "plugins"])
    changed = len(status.stdout.splitlines()) if status and not status.returncode else 0
    return rev.stdout.strip() + (f" + {changed} uncommitted change(s) under batchproc/ or plugins/" if changed else "")


def machine_info(cfg: Config) -> dict[str, str]:
    """What this machine is and which versions of every contender it has."""
    info = {
        "cores": f"nproc {os.cpu_count()}, usable {len(os.sched_getaffinity(0))}",
        "cpu": cpu_model(),
        "memory": mem_total(),
        "load average": f"{load_average()} (1, 5, 15 min, at start)",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({sys.executable})",
        "Pillow": pillow_versions(),
        "numpy": numpy_version(),
        "pyvips": pyvips_version(),
        "node": first_line(["node", "--version"]),
        "sharp": sharp_version(cfg.peers),
        "vipsthumbnail": first_line(["vipsthumbnail", "--vips-version"]),
        "ImageMagick": first_line(["mogrify", "-version"]),
        "GraphicsMagick": first_line(["gm", "version"]),
        "GNU parallel": first_line(["parallel", "--version"]),
        "imgp": first_line(["imgp", "--version"]),
        "sha256sum": first_line(["sha256sum", "--version"]),
        "repository": repository_state(),
    }
    if cfg.source != REPO:
        info["installs built from"] = str(cfg.source)
    for kind, bp, note in zip(cfg.install_kinds, cfg.installs, cfg.install_notes):
        info[f"batchproc, {kind}"] = note
        if bp:
            proc = run_quiet([*bp.argv, "--version"], bp.env)
            info[f"batchproc, {kind}, version"] = "; ".join((proc.stdout or "").split("\n")).strip("; ") if proc else "?"
    if cfg.install_kinds:
        info["small, memory, incremental"] = f"run the {cfg.install_kinds[0]} install"
    return info

