"""Running the jobs of a TOML file one after another, as cron would."""

from __future__ import annotations

import os

from batchproc.commands import run_step
from batchproc.errors import BatchprocError, ExitCode, UsageError, print_error
from batchproc.job_file import Job, load_jobs
from batchproc.options import RunOptions
from batchproc.run_flags import RUN_PARAMETERS
from batchproc.step_options import step_parameters, translate


def run_job_file(path: str, registry, plugin_dirs: tuple[str, ...], *, only=(), dry_run=False,
                 quiet=False, report: str | None = None, command_line: tuple[str, ...] = ()) -> int:
    """Run the file's jobs (or those named in `only`); return the most serious exit code.

    The jobs are one run in the log (one run id, a header each). `report` names one page for
    all of them, a section per job; without it, jobs that name the same page share it."""
    from batchproc.run_header import new_run_id

    jobs = load_jobs(path)
    names = [job.name for job in jobs]
    missing = [name for name in only if name not in names]
    if missing:
        raise UsageError(f"{path} has no job named {', '.join(missing)} (it has {', '.join(names)})")
    if report is not None and dry_run:
        raise UsageError("--dry-run writes nothing: it makes no --report either")
    pages = None  # the report pages the jobs name, made when a job names one
    shared = {"command": command_line, "run_id": new_run_id()}
    worst = ExitCode.OK
    for job in jobs:
        if only and job.name not in only:
            continue
        step_class, options, run = _prepare(job, registry, plugin_dirs)
        run = run.replace(**shared, **({"report": report} if report is not None else {}))
        if dry_run:
            run = run.replace(dry_run=True, report=None)
        if quiet:
            run = run.replace(quiet=True)
        if run.report and pages is None:
            pages = _pages()
        try:
            code = run_step(step_class, options, run, label=f"{job.name} ({job.step})", job=job.name,
                            pages=pages)
        except BatchprocError as error:  # one job's trouble (a lock held, say) never stops the next
            print_error(f"job {job.name}: {error}")
            code = error.exit_code
            _note_on_page(pages, run, job, error)
        worst = max(worst, code)
        if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED, ExitCode.BROKEN_PIPE):
            break
    return int(worst)


def _pages():
    from batchproc.report.live import ReportPages

    return ReportPages()


def _note_on_page(pages, run, job: Job, error: BatchprocError) -> None:
    """A job that could not run still gets its section on the page, saying why."""
    if not run.report:
        return
    from batchproc.run_header import RunHeader, now

    header = RunHeader(run=run.run_id or "", started=now(), command=run.command, cwd=os.getcwd(),
                       step=job.step, settings={}, engine=None, executor="local", jobs=0, job=job.name)
    try:
        trouble = pages.did_not_run(run.report, header, f"{job.name} ({job.step})", str(error))
    except BatchprocError:  # the page itself cannot be written: the job's own error said enough
        return
    if trouble:
        print_error(f"job {job.name}: {trouble}")


def _prepare(job: Job, registry, plugin_dirs: tuple[str, ...]):
    step_class = registry.steps.get(job.step)
    if step_class is None:
        raise UsageError(f"job {job.name}: no step named {job.step!r} is installed "
                         f"(installed: {', '.join(sorted(registry.steps))})")
    if job.chain:
        options = {"steps": job.chain}
    else:
        options = translate(job.options, step_parameters(step_class), f"job {job.name}")
    values = translate(job.run, RUN_PARAMETERS, f"job {job.name}")
    return step_class, options, RunOptions.from_values({**values, "plugin_dirs": plugin_dirs},
                                                       what=f"job {job.name}")
