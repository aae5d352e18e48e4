"""The memory task: batchproc checksum over many empty files, stdout on a terminal and on a pipe."""
from __future__ import annotations

import math
import statistics

from .config import MEMORY_RUNS, Config
from .inputs import build_empty_files
from .records import Contender, Result
from .streaming import StreamRun, run_streamed
from .tools import batchproc_job, no_batchproc

TERMINAL = "batchproc checksum, stdout a terminal"
PIPE = "batchproc checksum, stdout a pipe"


def summarise(res: Result, runs: list[StreamRun]) -> None:
    """Peak RSS (worst run), first-line time (median run) and line count, as extra and a note."""
    firsts = [r.first_line if r.first_line is not None else math.inf for r in runs]
    res.extra = {"peak_rss_mb": max(r.peak_rss_mb for r in runs), "first_line_s": statistics.median(firsts),
                 "lines": runs[-1].lines, "runs": [r.__dict__ for r in runs]}
    res.notes.append(f"parent peak RSS {res.extra['peak_rss_mb']:.1f} MB, first line {res.extra['first_line_s']:.3f} s, "
                     f"{res.extra['lines']} lines")
    if res.extra["lines"] != res.files:
        res.notes.append(f"expected {res.files} lines")


def memory_task(cfg: Config) -> list[Result]:
    """Checksum many empty files, alternating terminal and pipe; parent peak RSS and first-line time."""
    modes = {TERMINAL: True, PIPE: False}
    skip = no_batchproc(cfg)
    results = {name: Result(Contender("memory", name, None, skip, role="batchproc" if terminal else ""),
                            files=cfg.memory_files) for name, terminal in modes.items()}
    if skip:
        for res in results.values():
            res.notes.append(f"skipped: {skip}")
        return list(results.values())
    src = build_empty_files(cfg)
    runs: dict[str, list[StreamRun]] = {name: [] for name in modes}
    for rnd in range(min(cfg.rounds, MEMORY_RUNS)):
        for name, terminal in modes.items():
            res = results[name]
            if res.failed:
                continue
            run = run_streamed(batchproc_job(cfg, ["checksum", str(src)]), terminal)
            first = "none" if run.first_line is None else f"{run.first_line:.3f} s"
            print(f"  round {rnd + 1}: {name}  {run.wall:.3f} s, first line {first}, "
                  f"peak RSS {run.peak_rss_mb:.1f} MB", flush=True)
            if run.exit != 0:
                res.fail(f"exit {run.exit}: {run.error}")
                continue
            res.record(run.wall, run.cpu)
            runs[name].append(run)
    for name, res in results.items():
        if runs[name]:
            summarise(res, runs[name])
    return list(results.values())
