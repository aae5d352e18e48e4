"""The incremental task: one first run over photo-like JPEGs, then re-runs over the unchanged tree."""
from __future__ import annotations

from .config import INCREMENTAL_RERUNS, JOBS, PHOTO_SIZE, Config
from .inputs import build_photo_inputs, count_files, fresh_dir, photo_sizes
from .records import Contender, Result
from .rounds import time_job
from .tools import batchproc_job, no_batchproc

FIRST = "batchproc resize (first run)"
RERUN = "batchproc resize (re-run, unchanged)"


def incremental_task(cfg: Config) -> list[Result]:
    """Resize the photo tree into a fresh folder once, then re-run the same command a few times."""
    skip = no_batchproc(cfg)
    first = Result(Contender("incremental", FIRST, None, skip, role="batchproc"), files=cfg.incremental_files)
    again = Result(Contender("incremental", RERUN, None, skip), files=cfg.incremental_files)
    if skip:
        for res in (first, again):
            res.notes.append(f"skipped: {skip}")
        return [first, again]
    src = build_photo_inputs(cfg)
    files, mean_kb = photo_sizes(src)
    first.notes.append(f"inputs: {files} JPEGs, {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, mean {mean_kb:.0f} KB")
    out = fresh_dir(cfg.bench_dir / "runs" / "incremental") / "out"
    # The command a user would type: default size (fit in 1600x1600, never enlarge), 2 workers.
    job = batchproc_job(cfg, ["resize", str(src), "--out", str(out), "--jobs", str(JOBS)], out)
    # The first run is long and changes the state it measures, so it runs once; re-runs repeat.
    for res, label in [(first, "first run")] + [(again, f"re-run {i + 1}") for i in range(min(cfg.rounds, INCREMENTAL_RERUNS))]:
        timing = time_job(job)
        if timing.error:
            res.fail(timing.error)
            break
        res.record(timing.wall, timing.cpu)
        print(f"  {label}: {timing.wall:.3f} s", flush=True)
    first.last_out = out
    got = count_files(out)
    if got != cfg.incremental_files:
        first.notes.append(f"{got}/{cfg.incremental_files} outputs")
    return [first, again]
