#!/usr/bin/env python3
"""Benchmark --executor dask beside the local pool, and Dask's overhead per chunk.

Usage: python bench/dask_bench.py [--rounds N] [--overhead-rounds N] [--copies N]
                                  [--tiny-files N] [--image PATH] [--bench-dir DIR]

Tasks:
  image     400 copies of the 2725x2225 sharp benchmark JPEG -> 720x588, JPEG q80 (as bench/run.py):
            the local pool (--jobs 2), a Dask scheduler with 1 and with 2 workers of one thread
            (started before the clock, `--scheduler`), and `--executor dask --jobs 2` with no
            scheduler (batchproc starts its own LocalCluster: its start-up is timed).
            Target (issue 14, 4): 2 Dask workers reach at least 0.9x the local pool's throughput.
  overhead  20,000 tiny files through a step that does nothing, walked into chunks of one file
            (max_chunk = 1, which the Dask executor packs into chunks of about 0.25 s of work),
            local pool vs the 2-worker scheduler: (t_dask - t_local) / files is what Dask adds
            to each file. Target (issue 14, 4): Dask at most 2x the local pool's time.

Contenders of a task run round-robin, one run each per round, and the table shows wall-clock
medians (start-up included) and ratios to the local pool. Needs Dask: pip install 'batchproc[dask]'.
The image inputs are shared with bench/run.py (same folder, same spec file).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.config import DEFAULT_BENCH_DIR, DEFAULT_IMAGE  # noqa: E402  (needs the path above)
from harness.inputs import cached_build, image_copies  # noqa: E402

BATCHPROC = [sys.executable, "-m", "batchproc"]
NOOP_STEP = '''
from batchproc import Step, hookimpl


class Noop(Step):
    """Read nothing, write nothing: what is left is batchproc's and the executor's own cost.

    Example: batchproc --plugin-dir DIR noop FILES
    """
    name = "noop"
    summary = "Do nothing (overhead benchmark)."
    output_suffix = None
    max_chunk = 1  # one file per chunk as walked: the executor decides what travels together

    def process(self, source, target):
        return None


@hookimpl
def register_steps(register):
    register(Noop)
'''


def tiny_inputs(bench_dir: Path, files: int) -> Path:
    def build(root: Path) -> None:
        for i in range(files):
            (root / f"t{i:05d}.txt").write_text("x")

    return cached_build(bench_dir / "inputs" / "dask-tiny", {"files": files}, build)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dask_cluster(workers: int):
    """`dask scheduler` and `dask worker --nworkers N --nthreads 1` processes; yields the address."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                                   "--port", address.rsplit(":", 1)[1], "--no-dashboard"], **quiet)]
    try:
        processes.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers",
                                           str(workers), "--nthreads", "1", "--no-dashboard"], **quiet))
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def timed(argv: list[str], out: Path | None) -> float:
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    completed = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"failed ({completed.returncode}): {' '.join(argv)}\n{completed.stderr[-2000:]}")
    return elapsed


def round_robin(contenders: dict[str, list[str]], rounds: int, out: Path | None) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_index in range(rounds):
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            times[name].append(timed(contenders[name], out))
            print(f"  {name}: {times[name][-1]:.2f} s", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the image task (default 3)")
    parser.add_argument("--overhead-rounds", type=int, default=5, help="rounds of the overhead task (default 5)")
    parser.add_argument("--copies", type=int, default=400)
    parser.add_argument("--tiny-files", type=int, default=20000)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    args = parser.parse_args()
    try:
        import distributed
    except ImportError:
        raise SystemExit("needs Dask: pip install 'batchproc[dask]'") from None

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # start as an installed copy would (bench/README)
    images = image_copies(args.bench_dir, args.image, args.copies)
    tiny = tiny_inputs(args.bench_dir, args.tiny_files)
    runs = args.bench_dir / "runs" / "dask"
    runs.mkdir(parents=True, exist_ok=True)
    plugins = runs / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "noop_step.py").write_text(NOOP_STEP)
    out = runs / "out"
    resize = [*BATCHPROC, "resize", str(images), "--out", str(out), "--size", "720x588", "--quality", "80"]
    noop = [*BATCHPROC, "--plugin-dir", str(plugins), "noop", str(tiny)]
    print(f"batchproc {sys.executable}, distributed {distributed.__version__}, "
          f"{args.copies} images, {args.tiny_files} tiny files", flush=True)

    with ExitStack() as stack:
        one = stack.enter_context(dask_cluster(1))
        two = stack.enter_context(dask_cluster(2))
        print("image task", flush=True)
        image_times = round_robin({
            "local pool, --jobs 2": [*resize, "--jobs", "2"],
            "dask, 1 worker": [*resize, "--executor", "dask", "--scheduler", one],
            "dask, 2 workers": [*resize, "--executor", "dask", "--scheduler", two],
            "dask, own LocalCluster, --jobs 2": [*resize, "--executor", "dask", "--jobs", "2"],
        }, args.rounds, out)
        print("overhead task", flush=True)
        overhead_times = round_robin({
            "local pool, --jobs 2": [*noop, "--jobs", "2"],
            "dask, 2 workers": [*noop, "--executor", "dask", "--scheduler", two],
        }, args.overhead_rounds, None)
    shutil.rmtree(out, ignore_errors=True)

    rows = [("task", "contender", "runs", "median s", "min s", "files/s", "t/t_local", "us/file")]
    for task, times, files in (("image", image_times, args.copies), ("overhead", overhead_times, args.tiny_files)):
        local = statistics.median(times["local pool, --jobs 2"])
        for name, samples in times.items():
            median = statistics.median(samples)
            per_chunk = f"{median / files * 1e6:.0f}" if task == "overhead" else ""
            rows.append((task, name, str(len(samples)), f"{median:.2f}", f"{min(samples):.2f}",
                         f"{files / median:.1f}", f"{median / local:.2f}", per_chunk))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))
    local = statistics.median(overhead_times["local pool, --jobs 2"])
    dask = statistics.median(overhead_times["dask, 2 workers"])
    print(f"\nDask's overhead per file: ({dask:.2f} s - {local:.2f} s) / {args.tiny_files} files = "
          f"{(dask - local) / args.tiny_files * 1e6:.0f} us")
    image_local = statistics.median(image_times["local pool, --jobs 2"])
    image_dask = statistics.median(image_times["dask, 2 workers"])
    print("\nTargets (issue 14, 4)")
    for what, value, passed in (
            (f"image: 2 Dask workers' throughput / the local pool's >= 0.9", image_local / image_dask,
             image_local / image_dask >= 0.9),
            (f"tiny files: t_dask / t_local <= 2.0", dask / local, dask / local <= 2.0)):
        print(f"  {what:60} {value:6.3f}x  {'PASS' if passed else 'FAIL'}")


if __name__ == "__main__":
    main()
