"""Running a batch: walk -> plan -> chunks -> executor -> results, log, state and summary."""

from __future__ import annotations

import os
import threading
import time
from typing import Iterable, Iterator

from batchproc import registry
from batchproc.errors import ExitCode, UsageError
from batchproc.budget import FailureBudget
from batchproc.feed import Feed, wait_readable
from batchproc.inputs import PathSource
from batchproc.memory import ceiling
from batchproc.options import RunOptions
from batchproc.outputs import OutputLayout
from batchproc.plan import Planner
from batchproc.previews import THUMBNAIL_SIZE
from batchproc.results import FAILED, PLANNED, FileResult, Summary
from batchproc.run_header import RunHeader, end_record
from batchproc.runlog import RunLog
from batchproc.step import Step
from batchproc.state_dir import StateLocations
from batchproc.stopping import StopControl, handle_signals
from batchproc.walk import Found, WalkRules, walk
from batchproc.task import Task, WorkerSpec


class Events:
    """What a caller hears during a run; the CLI draws its progress bar from these."""

    def found(self, total: int) -> None:
        """The walk has found `total` files so far."""

    def result(self, result: FileResult) -> None:
        """One file is done (ok, skipped or failed)."""


def run_batch(step: Step, paths: Iterable[str], options: RunOptions, *,
              events: Events | None = None, control: StopControl | None = None,
              header: RunHeader | None = None) -> Summary:
    """Process every file under `paths` (a list, or a PathSource that streams more) with
    `step`; return the summary. Never prints. `header`: the run's facts for the log (made
    here when not given)."""
    events = events or Events()
    control = control or StopControl()
    if not isinstance(paths, PathSource):
        paths = PathSource(list(paths))
    jobs = options.jobs or available_cpus()
    budget = FailureBudget(options.max_failures)
    layout = OutputLayout(step.output_suffix, out=options.out, in_place=options.in_place)
    spec = WorkerSpec(step.name, step.settings, options.plugin_dirs, _new_file_mode(), options.verify,
                      tuple(registry.current().entries.values()),
                      previews=THUMBNAIL_SIZE if options.report else 0)
    executor = make_executor(step, options, spec, jobs)
    planner = _planner(step, paths, layout, options)
    feed = Feed()
    walker = _Walker(paths, walk_rules(options, layout, paths.args), planner, feed, jobs, step.max_chunk)
    log = record = None
    if options.log and not options.dry_run:
        record = (header or RunHeader.of(step, options, jobs)).to_record()
        log = RunLog(options.log, record)
    summary = Summary()
    attempts: dict[int, int] = {}
    started = time.perf_counter()
    reported_total = 0
    results = executor.run(feed, control)
    try:
        with handle_signals(control):
            walker.start()
            for result in results:
                if walker.found != reported_total:
                    reported_total = walker.found
                    events.found(reported_total)
                if _should_retry(result, attempts, options.retries, control):
                    feed.retry(planner.task(result.seq))
                    continue
                attempts.pop(result.seq, None)
                summary.add(result)
                planner.record(result)
                if log is not None:
                    log.write(result.to_dict(traceback=True))
                events.result(result)
                if result.status == FAILED:
                    _stop_if_hopeless(result, summary, walker.found, budget, control)
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
        summary.warnings.extend(planner.close())
        summary.elapsed = time.perf_counter() - started
        summary.stopped, summary.stop_code = control.reason, control.exit_code
        if log is not None:
            log.close(end_record(record, summary, summary.elapsed))
    return summary


def walk_rules(options: RunOptions, layout: OutputLayout, args: list[str]) -> WalkRules:
    """What the walk takes; the output folders are never walked."""
    return WalkRules(include=options.include, exclude=options.exclude, max_depth=options.max_depth,
                     hidden=options.hidden, follow_symlinks=options.follow_symlinks,
                     prune=frozenset(map(os.path.abspath, layout.output_folders(args))))


def _planner(step: Step, paths: PathSource, layout: OutputLayout, options: RunOptions) -> Planner:
    """A planner with the output roots of the folders named up front already locked."""
    layout.check_roots(paths.args)
    planner = Planner(step, layout, StateLocations(options.state, dry_run=options.dry_run),
                      force=options.force, retry_failed=options.retry_failed, dry_run=options.dry_run)
    # Outputs of different arguments can meet only if there are several, or loose files.
    planner.claim_targets = paths.streamed or len(paths.args) > 1 or any(
        not os.path.isdir(path) for path in paths.args)
    if layout.writes:
        for path in paths.args:
            if os.path.isdir(path):
                planner.open_root(layout.root_for(Found(path, path, "")))
    return planner


def _should_retry(result: FileResult, attempts: dict[int, int], retries: int, control) -> bool:
    if result.status != FAILED or not result.retryable or control.draining:
        return False
    attempts[result.seq] = attempts.get(result.seq, 0) + 1
    return attempts[result.seq] <= retries


def _stop_if_hopeless(result, summary, found, budget, control) -> None:
    """Stop dispatching when no later file can succeed (disk full) or the budget is spent."""
    if result.disk_full:
        control.drain(f"stopped: {result.error.split(': ')[0]}", ExitCode.ABORTED)
    elif budget.spent(summary.failed, found):
        control.drain(f"stopped: failure budget spent ({summary.failed} failed)", ExitCode.FAILURE_BUDGET)


def make_executor(step: Step, options: RunOptions, spec: WorkerSpec, jobs: int):
    """The executor the options name: local processes, or a Dask cluster."""
    executor, scheduler = options.where  # checked even for a dry run
    if options.dry_run:
        return PlanOnly()
    if executor == "local":
        from batchproc.local_executor import LocalExecutor

        return LocalExecutor(spec, jobs, start_method=options.start_method, preload=step.preload(),
                             timeout=options.timeout, max_memory=ceiling(options.max_memory, jobs))
    try:
        from batchproc.dask.executor import DaskExecutor
    except ImportError as error:
        raise UsageError(f"--executor dask needs Dask: pip install 'batchproc[dask]' ({error})") from None
    return DaskExecutor(spec, scheduler, jobs=jobs, timeout=options.timeout,
                        max_memory=ceiling(options.max_memory, jobs))


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


class _Walker(threading.Thread):
    """Walks and plans in the background, so work starts before the walk ends."""

    def __init__(self, paths, rules: WalkRules, planner: Planner, feed: Feed, jobs: int, max_chunk: int):
        super().__init__(name="batchproc-walk", daemon=True)
        self.paths = paths
        self.rules = rules
        self.jobs = jobs
        self.planner = planner
        self.feed = feed
        self.max_chunk = max_chunk
        self.found = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        chunk: list[Task] = []
        try:
            for folder in walk(self.paths, self.rules):
                if self.feed.cancelled:
                    return
                self.found += len(folder)
                for item in self.planner.plan_folder(folder):
                    if isinstance(item, Task):
                        chunk.append(item)
                        if len(chunk) >= chunk_size(self.found, self.jobs, self.max_chunk):
                            self.feed.put_chunk(chunk)
                            chunk = []
                    else:
                        self.feed.put_result(item)
                if chunk and self.feed.hungry:  # workers are waiting: send what we have
                    self.feed.put_chunk(chunk)
                    chunk = []
            if chunk:
                self.feed.put_chunk(chunk)
        except BaseException as error:  # raised again in the main thread
            self.error = error
        finally:
            self.feed.close()



def chunk_size(found: int, jobs: int, max_chunk: int) -> int:
    """Files per chunk, grown with the walk: one at first (a quick first result), then up to
    `max_chunk`, keeping about four chunks per worker of what has been found so far."""
    return max(1, min(max_chunk, found // (jobs * 4)))


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
