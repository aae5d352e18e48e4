"""Running the jobs of a TOML file one after another, as cron would; or watching them all."""

from __future__ import annotations

import os
import sys
import threading

from batchproc.commands import run_step
from batchproc.errors import BatchprocError, ExitCode, UsageError, print_error
from batchproc.job_file import Job, load_jobs
from batchproc.options import RunOptions
from batchproc.run_flags import RUN_PARAMETERS
from batchproc.step_options import step_parameters, translate


def run_job_file(path: str, registry, plugin_dirs: tuple[str, ...], *, only=(), dry_run=False,
                 quiet=False, watch=False, settle: float | None = None, poll: float | None = None,
                 report: str | None = None, command_line: tuple[str, ...] = ()) -> int:
    """Run the file's jobs (or those named in `only`); return the most serious exit code.
    With `watch`, run them all and keep watching their inputs (see watch_jobs).

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
    shared = {"command": command_line, "run_id": new_run_id(), **({"report": report} if report else {})}
    pages = _pages() if report or any(job.run.get("report") for job in jobs) else None
    if watch:
        prepared = [(job, *_prepare(job, registry, plugin_dirs)) for job in jobs
                    if not only or job.name in only]
        watching = {"watch": True, "settle": settle, "poll": poll, **({"quiet": True} if quiet else {})}
        return watch_jobs([(job, step_class, options, run.replace(**watching, **shared))
                           for job, step_class, options, run in prepared], pages)
    if settle is not None or poll is not None:
        raise UsageError("--settle and --poll are for --watch")
    worst = ExitCode.OK
    for job in jobs:
        if only and job.name not in only:
            continue
        step_class, options, run = _prepare(job, registry, plugin_dirs)
        run = run.replace(**shared)
        if dry_run:
            run = run.replace(dry_run=True, report=None)
        if quiet:
            run = run.replace(quiet=True)
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


def watch_jobs(prepared: list, pages=None) -> int:
    """Run every job, then keep watching all their inputs: each settled batch goes to the jobs
    whose inputs it is under, one job at a time, in file order (a turnstile); every job keeps
    its workers, its lock and its state for the whole watch. Returns the most serious exit code."""
    from batchproc.stopping import StopControl, handle_signals
    from batchproc.watch.hot_folders import HotFolders
    from batchproc.watch.observer import require_watchdog

    require_watchdog()
    for _, _, _, run in prepared:
        run.check()
    control = StopControl()
    first = prepared[0][3]
    hot = HotFolders(settle=first.settle_seconds, poll=first.poll, control=control, jobs=len(prepared),
                     follow_symlinks=any(run.follow_symlinks for *_, run in prepared),
                     say=lambda line: print(line, file=sys.stderr, flush=True))
    codes = [ExitCode.OK] * len(prepared)

    def run_job(index: int) -> None:
        job, step_class, options, run = prepared[index]
        try:
            codes[index] = run_step(step_class, options, run, label=f"{job.name} ({job.step})",
                                    job=job.name, pages=pages, hot=hot, control=control, order=index)
        except BatchprocError as error:  # one job that cannot run (a lock held) leaves the others
            print_error(f"job {job.name}: {error}")
            codes[index] = error.exit_code
            _note_on_page(pages, run, job, error)
        except Exception as error:  # noqa: BLE001 - a bug in one job: say so, stop the watch
            print_error(f"job {job.name}: batchproc failed unexpectedly: {error}")
            codes[index] = ExitCode.ABORTED
            control.drain("stopped", ExitCode.ABORTED)
        finally:
            if codes[index] == ExitCode.BROKEN_PIPE:
                control.abort("stopped", ExitCode.BROKEN_PIPE)
            if hot.turnstile is not None:
                hot.turnstile.done(index)  # its first turn, if it never came to take it

    threads = [threading.Thread(target=run_job, args=(index,), name=f"batchproc-job-{index}", daemon=True)
               for index in range(len(prepared))]
    try:
        with handle_signals(control, watching=True):
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
    finally:
        hot.close()
    return int(max(codes))


def _pages():
    """The report pages the jobs name (batchproc.report.live.ReportPages)."""
    from batchproc.report.live import ReportPages

    return ReportPages()


def _note_on_page(pages, run, job: Job, error: BatchprocError) -> None:
    """A job that could not run still gets its section on the page, saying why."""
    if pages is None or not run.report:
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
    for key in ("watch", "settle", "poll"):
        if key in values:
            raise UsageError(f"job {job.name}: {key} belongs on the command line, for all the jobs "
                             "at once: batchproc run FILE --watch [--settle SECONDS] [--poll SECONDS]")
    return step_class, options, RunOptions.from_values({**values, "plugin_dirs": plugin_dirs},
                                                       what=f"job {job.name}")
