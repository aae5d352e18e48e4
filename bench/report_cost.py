"""What --report costs: the same runs with and without it, alternating, medians.

Tasks (as in bench/run.py): the image task, 100 copies of sharp's 2725x2225 benchmark JPEG
resized to 720x588 at quality 80 with 2 workers (the default engine, and --engine pillow);
and checksum over 20,000 files of 1-4 KB (the manifest to /dev/null). Each run starts from
nothing (a new output folder and state folder), so every file is processed; the page goes
to a folder of its own. Rounds alternate the order (with, without; then without, with), so
both see the same neighbours on a busy machine.

For each run: the wall time; the CPU time of the whole process tree (batchproc, its worker
server and its workers: this script is a child subreaper, so what batchproc leaves to finish
comes back to it and is waited for), steadier than wall time on a busy machine; and the CPU
time and peak RSS of batchproc's own process (the parent, where the report's tallies run),
read by a wrapper in that process. Then the parent's peak RSS over 200,000 files (checksum),
with and without --report: the report's memory stays flat.

    python bench/report_cost.py [--rounds N] [--work DIR] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGE = Path(__file__).resolve().parent.parent.parent / "shared/bench/sharp-bench-2725x2225.jpg"
#: Runs batchproc in this process and writes its own CPU time and peak RSS to $REPORT_COST_OUT.
WRAPPER = """
import json, os, resource, sys
from batchproc.cli import run
code = run(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
with open(os.environ["REPORT_COST_OUT"], "w") as handle:
    json.dump({"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}, handle)
sys.exit(code)
"""


def small_files(root: Path, count: int) -> Path:
    """`count` files of 1-4 KB of random bytes, 1,000 per folder (built once)."""
    marker = root.with_name(root.name + ".done")
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(1)
    for index in range(count):
        folder = root / f"d{index // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index:06d}.bin").write_bytes(rng.randbytes(rng.randint(1024, 4096)))
    marker.write_text("")
    return root


def image_copies(root: Path, copies: int) -> Path:
    if root.is_dir() and len(list(root.iterdir())) == copies:
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for index in range(copies):
        shutil.copyfile(IMAGE, root / f"img{index:03d}.jpg")
    return root


def run_once(args: list[str], work: Path, report: bool) -> dict:
    """One batchproc run from nothing; its wall time, parent CPU and parent peak RSS."""
    scratch = Path(tempfile.mkdtemp(dir=work, prefix="run-"))
    extra = ["--state", str(scratch / "state")]
    if "checksum" not in args:
        extra += ["--out", str(scratch / "out")]
    if report:
        extra += ["--report", str(scratch / "report.html")]
    measured = scratch / "usage.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", WRAPPER, *args, *extra], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "REPORT_COST_OUT": str(measured)})
    wall = time.perf_counter() - started
    reap_leftovers()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if completed.returncode != 0:
        raise SystemExit(f"batchproc {' '.join(args)} failed ({completed.returncode}): {completed.stderr.decode()}")
    usage = json.loads(measured.read_text())
    page = (scratch / "report.html").stat().st_size if report else 0
    shutil.rmtree(scratch)
    return {"wall": wall, "tree_cpu": tree, **usage, "page_kb": page / 1000}


def reap_leftovers(timeout: float = 10) -> None:
    """Wait for the processes batchproc left to finish (its worker server), so that their CPU
    time, and their workers', is counted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.005)
        except ChildProcessError:
            return


def compare(name: str, args: list[str], work: Path, rounds: int, files: int) -> None:
    runs: dict[bool, list[dict]] = {False: [], True: []}
    run_once(args, work, True)  # warm the caches (and the plugin registry) up
    for index in range(rounds):
        for report in ((False, True) if index % 2 == 0 else (True, False)):
            runs[report].append(run_once(args, work, report))
        print(f"  round {index + 1}: without {runs[False][-1]['wall']:.3f} s "
              f"({runs[False][-1]['tree_cpu']:.2f} s CPU), with {runs[True][-1]['wall']:.3f} s "
              f"({runs[True][-1]['tree_cpu']:.2f} s CPU)", flush=True)
    median = {report: {key: statistics.median(run[key] for run in runs[report]) for key in runs[report][0]}
              for report in runs}
    without, with_report = median[False], median[True]
    extra = with_report["wall"] - without["wall"]
    cpu = with_report["cpu"] - without["cpu"]
    print(f"{name}: median of {rounds} runs each")
    tree = with_report["tree_cpu"] - without["tree_cpu"]
    print(f"  wall   without {without['wall']:.3f} s, with --report {with_report['wall']:.3f} s: "
          f"{extra:+.3f} s ({100 * extra / without['wall']:+.1f}%)")
    print(f"  CPU, all processes: without {without['tree_cpu']:.3f} s, with {with_report['tree_cpu']:.3f} s: "
          f"{tree:+.3f} s ({100 * tree / without['tree_cpu']:+.1f}%)")
    print(f"  parent CPU without {without['cpu']:.3f} s, with {with_report['cpu']:.3f} s: "
          f"{cpu:+.3f} s ({1e6 * cpu / files:+.1f} us per file)")
    print(f"  parent peak RSS without {without['rss_mb']:.1f} MB, with {with_report['rss_mb']:.1f} MB; "
          f"page {with_report['page_kb']:.0f} KB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "batchproc-report-cost")
    parser.add_argument("--skip-memory", action="store_true")
    options = parser.parse_args()
    from batchproc.process_tree import become_subreaper

    become_subreaper()
    work = options.work
    work.mkdir(parents=True, exist_ok=True)
    photos = image_copies(work / "inputs/image", 100)
    small = small_files(work / "inputs/small", 20_000)
    image_args = ["resize", str(photos), "--size", "720x588", "--quality", "80", "--jobs", "2"]
    compare("image task (100 photos, 2 workers, engine auto)", image_args, work, options.rounds, 100)
    compare("image task, --engine pillow", [*image_args, "--engine", "pillow"], work, options.rounds, 100)
    compare("checksum, 20,000 files of 1-4 KB", ["checksum", str(small)], work, options.rounds, 20_000)
    if not options.skip_memory:
        many = small_files(work / "inputs/many", 200_000)
        compare("checksum, 200,000 files of 1-4 KB (memory)", ["checksum", str(many)], work, 2, 200_000)


if __name__ == "__main__":
    main()
