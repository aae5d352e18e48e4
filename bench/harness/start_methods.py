"""The start-method task: how workers start (fork, forkserver with its preload, spawn) as it
shows in the image task's total time and in the time to the first result.

The first result is the first `--json` line of `batchproc resize` over the photo tree (many small
JPEGs, so the walk is still running when the workers start), read from a pipe that is then
closed, as `batchproc resize PHOTOS --json | head -n 1` does.
"""
from __future__ import annotations

from .config import JOBS, START_METHODS, Batchproc, Config
from .contenders import batchproc_resize
from .inputs import build_image_inputs, build_photo_inputs, fresh_dir
from .records import MORE_MS, MORE_PERCENT, Comparison, Contender, Job, Result
from .rounds import check_outputs, run_round_robin
from .tools import batchproc_job, install_suffix, installs, no_resize

IMAGE_TASK, FIRST_TASK = "startmethod", "firstresult"
BASELINE = "fork"
# Issue 16: the default (forkserver) costs at most 2% of the image task and 50 ms of the first result.
LIMITS = {IMAGE_TASK: (MORE_PERCENT, 2.0), FIRST_TASK: (MORE_MS, 50.0)}
DEFAULT_METHOD = "forkserver"


def row_name(task: str, method: str, kind: str) -> str:
    what = "image task" if task == IMAGE_TASK else "first --json line"
    return f"{what}, --start-method {method}{install_suffix(kind)}"


def first_result(cfg: Config, src, method: str, bp: Batchproc):
    """The first-result probe: a resize of the photo tree, timed until its first line on stdout."""
    def prepare(run) -> Job:
        args = ["resize", str(src), "--out", str(run / "out"), "--jobs", str(JOBS), "--json", "--start-method", method]
        return batchproc_job(cfg, args, bp=bp, until_first_line=True)

    return prepare


def method_rows(cfg: Config, images, photos, kind: str, bp: Batchproc | None) -> list[Contender]:
    """For one install: both measures under every start method, each compared with fork."""
    rows = []
    for task in (IMAGE_TASK, FIRST_TASK):
        for method in START_METHODS:
            compare = ()
            if method != BASELINE:  # the default has the limit; spawn is shown for reference
                diff, limit = LIMITS[task]
                default = method == DEFAULT_METHOD
                compare = (Comparison(row_name(task, BASELINE, kind), BASELINE, diff, limit if default else None,
                                      "16" if default else ""),)
            prepare = (batchproc_resize(cfg, images, JOBS, None, bp, ("--start-method", method)) if task == IMAGE_TASK
                       else first_result(cfg, photos, method, bp))
            rows.append(Contender(task, row_name(task, method, kind), prepare, no_resize(bp), compare=compare))
    return rows


def start_method_task(cfg: Config) -> list[Result]:
    """Every install's image task and first result under each start method, alternating."""
    images, photos = build_image_inputs(cfg), build_photo_inputs(cfg)
    contenders = [row for kind, bp in installs(cfg) for row in method_rows(cfg, images, photos, kind, bp)]
    results = run_round_robin(cfg, contenders, fresh_dir(cfg.bench_dir / "runs" / "startmethod"), files=cfg.copies)
    for res in results:
        if res.contender.task == FIRST_TASK:
            res.files = 0  # one file's result is timed, not a rate
    check_outputs([r for r in results if r.contender.task == IMAGE_TASK], cfg.copies)
    return results
