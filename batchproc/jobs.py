"""Running the jobs of a TOML file one after another, as cron would."""

from __future__ import annotations

import sys

from batchproc.commands import RUN_PARAMETERS, _step_parameters, run_step
from batchproc.job_file import Job, load_jobs, translate
from batchproc.errors import BatchprocError, ExitCode, UsageError


def run_job_file(path: str, registry, plugin_dirs: tuple[str, ...], *, only=(), dry_run=False,
                 quiet=False) -> int:
    """Run the file's jobs (or those named in `only`); return the most serious exit code."""
    jobs = load_jobs(path)
    names = [job.name for job in jobs]
    missing = [name for name in only if name not in names]
    if missing:
        raise UsageError(f"{path} has no job named {', '.join(missing)} (it has {', '.join(names)})")
    worst = ExitCode.OK
    for job in jobs:
        if only and job.name not in only:
            continue
        step_class, options, run = _prepare(job, registry)
        if dry_run:
            run["dry_run"] = True
        if quiet:
            run["quiet"] = True
        try:
            code = run_step(step_class, options, run, plugin_dirs, label=f"{job.name} ({job.step})")
        except BatchprocError as error:  # one job's trouble (a lock held, say) never stops the next
            print(f"Error: job {job.name}: {error}", file=sys.stderr)
            code = error.exit_code
        worst = max(worst, code)
        if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED, ExitCode.BROKEN_PIPE):
            break
    return int(worst)


def _prepare(job: Job, registry):
    step_class = registry.steps.get(job.step)
    if step_class is None:
        raise UsageError(f"job {job.name}: no step named {job.step!r} is installed "
                         f"(installed: {', '.join(sorted(registry.steps))})")
    if job.chain:
        options = {"steps": job.chain}
    else:
        options = translate(job.options, _step_parameters(step_class), f"job {job.name}")
    run = translate(job.run, RUN_PARAMETERS, f"job {job.name}")
    return step_class, options, run
