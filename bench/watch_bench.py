"""What a hot folder costs: the latency from a finished write to its record, and the CPU an
idle watch uses over a large tree, with inotify and with --poll.

    python bench/watch_bench.py                      # 100,000 files, 1 minute idle per mode
    python bench/watch_bench.py --files 20000 --idle 20 --samples 10

It builds a tree of small text files (100 per folder) in a scratch folder, compresses it once
with a plain run (so the watch's first pass finds everything up to date), then for each mode
(inotify, then --poll) starts `batchproc compress TREE --out OUT --watch --json`, waits for
its first pass to end, measures the CPU seconds of batchproc and all its processes (workers,
forkserver) over the idle window, and then writes files one at a time into the tree, each
in one open/write/close at a random moment, timing each from the close to its record on
stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")


def build_tree(root: str, files: int) -> None:
    for index in range(files):
        folder = os.path.join(root, f"d{index // 100:04}")
        if index % 100 == 0:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{index:06}.txt"), "w") as handle:
            handle.write(f"file {index}\n" * 4)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and all its descendants, as /proc has them now."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        times[int(name)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += times.get(current, 0.0)
        stack.extend(children.get(current, ()))
    return total


class Watch:
    def __init__(self, tree: str, out: str, state: str, settle: float, poll: float | None) -> None:
        command = [sys.executable, "-m", "batchproc", "compress", tree, "--out", out, "--state", state,
                   "--watch", "--settle", str(settle), "--json", "--jobs", "2"]
        if poll is not None:
            command += ["--poll", str(poll)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.records: queue.Queue = queue.Queue()
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_records, daemon=True).start()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_records(self) -> None:
        for line in self.process.stdout:
            self.records.put((time.time(), json.loads(line)))

    def _read_lines(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.decode(errors="replace").rstrip())

    def wait_line(self, text: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if text in line:
                return line

    def wait_record(self, name: str, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while True:
            arrived, record = self.records.get(timeout=max(0.1, deadline - time.monotonic()))
            if record["input"].endswith(name):
                return arrived

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(120)


def measure(tree: str, out: str, state: str, args, poll: float | None) -> dict:
    watch = Watch(tree, out, state, args.settle, poll)
    how = watch.wait_line("watching")
    marker = os.path.join(tree, f"first-pass-done-{poll}.txt")
    with open(marker, "w") as handle:
        handle.write("marker\n")
    watch.wait_record(os.path.basename(marker))  # planned only once the first pass has been walked
    time.sleep(3)  # the last records of the first pass, the state saved
    before, clock = cpu_seconds(watch.process.pid), time.monotonic()
    time.sleep(args.idle)
    idle_cpu = cpu_seconds(watch.process.pid) - before
    idle_minutes = (time.monotonic() - clock) / 60
    latencies = []
    for index in range(args.samples):
        # At a random moment: a write just after a look at the tree waits a whole interval.
        time.sleep(random.uniform(0, poll or 0.5))
        path = os.path.join(tree, f"d{index % 7:04}", f"new-{poll}-{index}.txt")
        with open(path, "w") as handle:
            handle.write("new file\n" * 10)
        written = time.time()
        latencies.append(watch.wait_record(os.path.basename(path), timeout=600) - written)
    code = watch.stop()
    return {"mode": how.split("(", 1)[1].split(";")[0], "idle_cpu_s_per_min": idle_cpu / idle_minutes, "latency": latencies, "exit": code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=60, help="seconds of idle watching measured per mode")
    parser.add_argument("--samples", type=int, default=20, help="files written one at a time for the latency")
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=5.0, help="the --poll interval measured")
    parser.add_argument("--modes", default="inotify,poll", help="which watches to measure")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="batchproc-watch-bench-")
    tree, out, state = (os.path.join(scratch, name) for name in ("tree", "out", "state"))
    try:
        began = time.monotonic()
        build_tree(tree, args.files)
        print(f"tree: {args.files:,} files in {args.files // 100:,} folders, built in {time.monotonic() - began:.1f} s")
        began = time.monotonic()
        subprocess.run([sys.executable, "-m", "batchproc", "compress", tree, "--out", out, "--state", state,
                        "--quiet", "--jobs", "2"], check=True)
        print(f"plain run (compress, 2 jobs): {time.monotonic() - began:.1f} s")
        began = time.monotonic()
        subprocess.run([sys.executable, "-m", "batchproc", "compress", tree, "--out", out, "--state", state,
                        "--quiet", "--jobs", "2"], check=True)
        print(f"unchanged re-run (what a watch's first pass costs): {time.monotonic() - began:.1f} s")
        print(f"settle {args.settle:g} s; idle window {args.idle:g} s; {args.samples} latency samples per mode")
        print(f"{'mode':<22} {'idle CPU s/min':>15} {'latency min / median / max s':>30} "
              f"{'- settle (median)':>18}")
        modes = args.modes.split(",")
        for poll in [None] * ("inotify" in modes) + [args.poll] * ("poll" in modes):
            result = measure(tree, out, state, args, poll)
            lat = result["latency"]
            print(f"{result['mode']:<22} {result['idle_cpu_s_per_min']:>15.3f} "
                  f"{min(lat):>10.2f} / {statistics.median(lat):.2f} / {max(lat):.2f}"
                  f"{statistics.median(lat) - args.settle:>18.2f}", flush=True)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
