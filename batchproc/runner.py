"""Running a batch: walk -> plan -> chunks -> executor -> results, log, state and summary."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import TYPE_CHECKING, Iterable, Iterator

from batchproc import registry
from batchproc.errors import ExitCode, UsageError
from batchproc.budget import FailureBudget
from batchproc.feed import Feed, wait_readable
from batchproc.inputs import PathSource
from batchproc.memory import ceiling
from batchproc.options import RunOptions
from batchproc.outputs import OutputLayout
from batchproc.plan import Planner
from batchproc.result_batch import Rendering, ResultBatch
from batchproc.results import FAILED, PLANNED, FileResult, Summary
from batchproc.ledger import Ledger
from batchproc.runlog import RunLog
from batchproc.step import Step
from batchproc.state_dir import StateLocations
from batchproc.stopping import StopControl, handle_signals
from batchproc.worker_server import modules_of
from batchproc.walk import Found, WalkRules, walk
from batchproc.walker import Walker, chunk_size  # noqa: F401 - chunk_size: part of the runner's interface
from batchproc.task import WorkerSpec

if TYPE_CHECKING:
    from batchproc.run_header import RunHeader


class Events:
    """What a caller hears during a run; the CLI draws its progress bar from these."""

    def found(self, total: int) -> None:
        """The walk has found `total` files so far."""

    def result(self, result: FileResult) -> None:
        """One file is done (ok, skipped, failed, or deleted while watched)."""

    def notice(self, line: str, *, warning: bool = False) -> None:
        """Something to say that is about no one file (what is watched; `warning`: a watch that
        falls back to polling, a failure budget spent); may be called from any thread."""

    def results(self, batch: ResultBatch) -> None:
        """Many files are done, all ok (a ResultBatch: columns, and the stdout text the worker
        rendered for them). By default each is passed to `result` in turn; a caller that
        overrides this takes them in bulk, and the workers then keep no record of each."""
        if batch.has_records:
            for result in batch.records():
                self.result(result)


def run_batch(step: Step, paths: Iterable[str], options: RunOptions, *,
              events: Events | None = None, control: StopControl | None = None,
              header: RunHeader | None = None, hot=None, order: int = 0) -> Summary:
    """Process every file under `paths` (a list, or a PathSource that streams more) with
    `step`; return the summary. Never prints. `header`: the run's facts for the log (made
    here when not given).

    With `options.watch`, the run goes on after the walk: files that settle under `paths` are
    fed to the same planner and executor until the run is stopped. `hot` is a watch shared by
    several runs (the jobs of a job file, `order` being this one's place in it)."""
    events = events or Events()
    control = control or StopControl()
    if not isinstance(paths, PathSource):
        paths = PathSource(list(paths))
    jobs = options.jobs or available_cpus()
    budget = FailureBudget(options.max_failures)
    layout = OutputLayout(step.output_suffix, out=options.out, in_place=options.in_place)
    record = None
    if options.log and not options.dry_run:
        from batchproc.run_header import RunHeader

        record = (header or RunHeader.of(step, options, jobs)).to_record()
    previews = _previews(step) if options.report else 0
    spec = WorkerSpec(step.name, step.settings, options.plugin_dirs, _new_file_mode(), options.verify,
                      tuple(registry.current().entries.values()), options.timeout,
                      _rendering(options, events, record, every_record=bool(previews)), previews)
    executor = make_executor(step, options, spec, jobs)
    if options.where[0] == "local":  # a cluster's workers check for themselves, where they run
        step.check_runnable()
    planner = _planner(step, paths, layout, options)
    # A watch stats what it finds itself; a walk for a step that keeps nothing need not.
    rules = walk_rules(options, layout, paths.args, stat_files=not planner.stateless or options.watch)
    share = own_watch = None
    if options.watch:
        try:
            share, own_watch = _watch(step, paths, rules, planner, options, control, events, hot, order)
        except BaseException:
            planner.close()
            raise
    feed = Feed()
    walker = Walker(share.items() if share else walk(paths, rules), planner, feed, jobs, step.max_chunk)
    log = RunLog(options.log, record) if record is not None else None
    books = Ledger(budget, planner, walker, log, events, control, share)
    started = time.perf_counter()
    reported_total = 0
    attempts: dict[int, int] = {}
    results = executor.run(feed, control)
    try:
        with handle_signals(control, watching=options.watch):
            walker.start()
            for result in results:
                if walker.found != reported_total:
                    reported_total = walker.found
                    events.found(reported_total)
                if type(result) is ResultBatch:  # files that went ok, in bulk
                    if attempts:
                        for seq in result.seqs:
                            attempts.pop(seq, None)
                    books.add_batch(result)
                    continue
                if _should_retry(result, attempts, options.retries, control):
                    feed.retry(planner.task(result.seq))
                    continue
                attempts.pop(result.seq, None)
                books.add(result)
        walker.join()
        if walker.error is not None:
            raise walker.error
        events.found(walker.found)
    except BaseException:  # stdout closed, a bug: stop the workers now, not after their chunks
        control.abort("stopped", ExitCode.ABORTED)
        raise
    finally:
        results.close()
        feed.cancel()
        walker.join()
        feed.dispose()
        if share is not None:
            share.close()
        if own_watch is not None:
            own_watch.close()
        summary = books.summary
        summary.warnings.extend(planner.close())
        summary.elapsed = time.perf_counter() - started
        summary.stopped, summary.stop_code = control.reason, control.exit_code
        if log is not None:
            from batchproc.run_header import end_record

            log.close(end_record(record, summary, summary.elapsed))
    return summary


def _watch(step, paths, rules, planner, options, control, events, hot, order):
    """This run's share of a watch (a watch of its own unless one is given), and the watch to
    close at the end if it is its own."""
    from batchproc.watch.hot_folders import HotFolders

    if not paths.args:
        raise UsageError("--watch needs files or folders named on the command line")
    own = None
    if hot is None:
        hot = own = HotFolders(settle=options.settle_seconds, poll=options.poll, control=control,
                               say=lambda line: events.notice(line, warning=True),
                               follow_symlinks=options.follow_symlinks)
    try:
        share = hot.share(paths.args, dataclasses.replace(rules, skip_partial=True),
                          accepts=step.accepts_file, mirror=options.mirror_deletes, order=order)
    except BaseException:
        if own is not None:
            own.close()
        raise
    share.on_idle = lambda: _check_outputs(planner, control)
    planner.expect_settled = True
    events.notice(f"watching {', '.join(paths.args)} ({hot.how}; a file is taken once unchanged "
                  f"for {options.settle_seconds:g} s)")
    return share, own


def _check_outputs(planner: Planner, control: StopControl) -> None:
    """While a watch is idle: save the state, and stop if an output folder is lost."""
    planner.state.save()
    lost = planner.state.lost_roots()
    if lost:
        control.drain(f"stopped: the output folder {lost[0]} is gone", ExitCode.ABORTED)


def _previews(step: Step) -> int:
    """The size of the thumbnails a run report asks of this step's workers (0: none)."""
    from batchproc.previews import THUMBNAIL_SIZE
    from batchproc.run_header import is_image_step

    return THUMBNAIL_SIZE if is_image_step(step) else 0


def _rendering(options: RunOptions, events: Events, log_header: dict | None, *,
               every_record: bool = False) -> Rendering | None:
    """What workers render for the parent: the run's stdout format and log lines (tagged with
    the run's id and job, as the log's header says), the columns a --report counts, and every
    record whole only for a caller that takes results one by one (or `every_record`: an image
    step's thumbnails for the report). None under --watch, whose books follow each file."""
    if options.watch:
        return None
    stdout = "json" if options.json_lines else "print0" if options.print0 else "lines"
    one_by_one = type(events).result is not Events.result and type(events).results is Events.results
    tags = () if log_header is None else tuple(
        (key, log_header[key]) for key in ("run", "job") if log_header.get(key) is not None)
    return Rendering(stdout, log=log_header is not None, log_fields=tags,
                     records=one_by_one or every_record, tally=bool(options.report))


def walk_rules(options: RunOptions, layout: OutputLayout, args: list[str], *,
               stat_files: bool = True) -> WalkRules:
    """What the walk takes; the output folders are never walked."""
    return WalkRules(include=options.include, exclude=options.exclude, max_depth=options.max_depth,
                     hidden=options.hidden, follow_symlinks=options.follow_symlinks,
                     prune=frozenset(map(os.path.abspath, layout.output_folders(args))),
                     stat_files=stat_files)


def _planner(step: Step, paths: PathSource, layout: OutputLayout, options: RunOptions) -> Planner:
    """A planner with the output roots of the folders named up front already locked."""
    layout.check_roots(paths.args)
    planner = Planner(step, layout, StateLocations(options.state, dry_run=options.dry_run),
                      force=options.force, retry_failed=options.retry_failed, dry_run=options.dry_run)
    # Outputs of different arguments can meet only if there are several, or loose files.
    planner.claim_targets = paths.streamed or len(paths.args) > 1 or any(
        not os.path.isdir(path) for path in paths.args)
    if options.in_place and paths.streamed:
        planner.written = set()
    if layout.writes:
        for path in paths.args:
            if os.path.isdir(path):
                planner.state.open_root(layout.root_for(Found(path, path, "")))
    return planner


def _should_retry(result: FileResult, attempts: dict[int, int], retries: int, control) -> bool:
    if result.status != FAILED or not result.retryable or control.draining:
        return False
    attempts[result.seq] = attempts.get(result.seq, 0) + 1
    return attempts[result.seq] <= retries


def make_executor(step: Step, options: RunOptions, spec: WorkerSpec, jobs: int):
    """The executor the options name: local processes, or a Dask cluster."""
    executor, scheduler = options.where  # checked even for a dry run
    if options.dry_run:
        return PlanOnly()
    if executor == "local":
        from batchproc.local_executor import LocalExecutor

        return LocalExecutor(spec, jobs, start_method=options.start_method, preload=modules_of(type(step)),
                             timeout=options.timeout, max_memory=ceiling(options.max_memory, jobs),
                             timeout_grace=_timeout_grace(step))
    try:
        from batchproc.dask.executor import DaskExecutor
    except ImportError as error:
        raise UsageError(f"--executor dask needs Dask: pip install 'batchproc[dask]' ({error})") from None
    return DaskExecutor(spec, scheduler, jobs=jobs, timeout=options.timeout,
                        max_memory=ceiling(options.max_memory, jobs), timeout_grace=_timeout_grace(step))


#: Seconds the parent waits past --timeout before killing the worker of a step that stops its
#: own work at the timeout: time for the step to kill its command and report the file.
TIMEOUT_GRACE = 1.0


def _timeout_grace(step: Step) -> float:
    return TIMEOUT_GRACE if step.stops_at_timeout else 0.0


class PlanOnly:
    """The executor of --dry-run: every task comes back planned; nothing runs or is written."""

    def run(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        while True:
            yield from feed.take_results()
            while (chunk := feed.take_chunk()) is not None:
                for task in chunk:
                    yield FileResult(PLANNED, task.source, output=task.output, seq=task.seq)
            if feed.exhausted or control.draining:
                yield from feed.take_results()
                return
            wait_readable([feed], timeout=0.2)


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset and cgroup-limited affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
