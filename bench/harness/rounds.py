"""Timing: one command at a time, contenders alternating round by round."""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import JOB_TIMEOUT, Config
from .inputs import count_files
from .records import Contender, Job, Result
from .tools import tail

# How long a job may take to stop once its stdout is closed.
STOP_TIMEOUT = 60
# How long the processes a job leaves behind (a forkserver about to exit) may take to end.
ORPHAN_TIMEOUT = 10
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of one run, and its error text ('' when it succeeded)."""

    wall: float
    cpu: float | None
    error: str


def children_cpu() -> float:
    """User + system seconds of all waited-for descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def adopt_orphans() -> bool:
    """Become the subreaper of our descendants (Linux). batchproc's forkserver outlives batchproc
    by a moment and its workers are its children, not batchproc's, so without this their CPU
    time would never reach RUSAGE_CHILDREN; adopted and reaped here, it does."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans() -> None:
    """Wait for the adopted descendants of the job that just ended (each job runs alone, so any
    child left is one of them), up to ORPHAN_TIMEOUT; say so if some outlive it."""
    deadline = time.monotonic() + ORPHAN_TIMEOUT
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                print(f"  warning: processes outlived their job by over {ORPHAN_TIMEOUT} s", flush=True)
                return
            time.sleep(0.005)


def time_job(job: Job) -> Timing:
    """Run one job with stdout to /dev/null; its wall and CPU time, or the error."""
    if job.until_first_line:
        return time_first_line(job)
    env = {**os.environ, **job.env}
    cpu_before = children_cpu()
    started = time.perf_counter()
    try:
        proc = subprocess.run(job.argv, cwd=job.cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Timing(time.perf_counter() - started, None, f"timed out after {JOB_TIMEOUT} s")
    except OSError as err:
        return Timing(time.perf_counter() - started, None, str(err))
    wall = time.perf_counter() - started
    reap_orphans()
    # CPU time counts every process of the tree that was waited for: workers, xargs' children.
    cpu = children_cpu() - cpu_before
    return Timing(wall, cpu, "" if proc.returncode == 0 else f"exit {proc.returncode}: {tail(proc.stderr)}")


def time_first_line(job: Job) -> Timing:
    """Time a job until its first line on stdout, then close the pipe (as `| head -n 1` does) and
    wait for it to stop; it may end 0 (done by then) or 141 (stdout closed)."""
    ours, theirs = os.pipe()
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(job.argv, cwd=job.cwd, env={**os.environ, **job.env}, stdin=subprocess.DEVNULL,
                                stdout=theirs, stderr=errors)
        os.close(theirs)
        first = None
        try:
            while first is None and (chunk := os.read(ours, 1 << 16)):
                if b"\n" in chunk:
                    first = time.perf_counter() - started
        finally:
            os.close(ours)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        reap_orphans()
        errors.seek(0)
        stderr = errors.read()
    if first is None or code not in (0, 141):
        return Timing(time.perf_counter() - started, None, f"exit {code}: {tail(stderr) or 'no line on stdout'}")
    return Timing(first, None, "")


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
    timing = time_job(job)
    if timing.error:
        result.fail(timing.error)
        return
    result.record(timing.wall, timing.cpu)
    if job.out_dir is not None:
        # Keep only the latest output of each contender: it is what quality and counts check.
        if result.last_out and result.last_out != job.out_dir:
            shutil.rmtree(result.last_out.parent, ignore_errors=True)
        result.last_out = job.out_dir


def rotated(count: int, shift: int) -> list[int]:
    """0..count-1 starting at `shift`, wrapping around."""
    shift %= count
    return list(range(shift, count)) + list(range(shift))


def run_round_robin(cfg: Config, contenders: list[Contender], runs_root: Path, rounds: int | None = None,
                    files: int = 0) -> list[Result]:
    """Run the contenders alternately, one run each per round, rotating who goes first."""
    results = [Result(c, files=files) for c in contenders]
    counts = [rounds if rounds is not None and not c.skip else rounds_for(cfg, c) for c in contenders]
    for rnd in range(max(counts, default=0)):
        for i in rotated(len(results), rnd):
            res = results[i]
            if rnd < counts[i] and not res.failed:
                print(f"  round {rnd + 1}: {res.contender.name}", end="", flush=True)
                run_once(res, runs_root / slug(res.contender.name) / f"r{rnd}")
                print(f"  {res.times[-1]:.3f} s" if not res.failed else f"  {res.notes[-1]}", flush=True)
    for res, count in zip(results, counts):
        annotate(cfg, res, count)
        if res.contender.after:
            res.contender.after(res)
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
