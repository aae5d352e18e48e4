"""Running a batch: walk -> plan -> chunks -> executor -> results, log, state and summary."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Iterable, Iterator

from batchproc.errors import ExitCode, UsageError
from batchproc.budget import FailureBudget
from batchproc.feed import Feed
from batchproc.inputs import PathSource
from batchproc.outputs import OutputLayout
from batchproc.plan import Planner
from batchproc.results import FAILED, PLANNED, FileResult, Summary
from batchproc.runlog import RunLog
from batchproc.step import Step
from batchproc.stopping import StopControl, handle_signals
from batchproc.walk import Found, WalkRules, walk
from batchproc.task import Task, WorkerSpec


@dataclass
class RunOptions:
    """How to run a batch, beyond the step and its settings."""

    layout: OutputLayout
    rules: WalkRules = field(default_factory=WalkRules)
    jobs: int = 1
    executor: str = "local"
    #: The Dask scheduler address, for executor "dask".
    scheduler: str | None = None
    start_method: str | None = None
    log_path: str | None = None
    force: bool = False
    retry_failed: bool = False
    #: Only plan: report what would be done and why files would be skipped; touch nothing.
    dry_run: bool = False
    timeout: float | None = None
    #: Extra attempts for a file whose failure may be transient (I/O errors, crashes, timeouts).
    retries: int = 0
    #: Stop after this many failures ("10") or this share of the files found ("5%").
    max_failures: str | None = None
    plugin_dirs: tuple[str, ...] = ()


class Events:
    """What a caller hears during a run; the CLI draws its progress bar from these."""

    def found(self, total: int) -> None:
        """The walk has found `total` files so far."""

    def result(self, result: FileResult) -> None:
        """One file is done (ok, skipped or failed)."""


def run_batch(step: Step, paths: Iterable[str], options: RunOptions, *,
              events: Events | None = None, control: StopControl | None = None) -> Summary:
    """Process every file under `paths` (a list, or a PathSource that streams more) with
    `step`; return the summary. Never prints."""
    events = events or Events()
    control = control or StopControl()
    if not isinstance(paths, PathSource):
        paths = PathSource(list(paths))
    executor = make_executor(options, WorkerSpec(step.name, step.settings, options.plugin_dirs,
                                                 _new_file_mode()))
    planner = _planner(step, paths, options)
    feed = Feed()
    walker = _Walker(paths, options, planner, feed, step.max_chunk)
    log = RunLog(options.log_path) if options.log_path and not options.dry_run else None
    summary = Summary()
    budget = FailureBudget(options.max_failures)
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
        if log is not None:
            log.close()
    summary.elapsed = time.perf_counter() - started
    summary.stopped, summary.stop_code = control.reason, control.exit_code
    return summary


def _planner(step: Step, paths: PathSource, options: RunOptions) -> Planner:
    """A planner with the output roots of the folders named up front already locked."""
    options.layout.check_roots(paths.args)
    planner = Planner(step, options.layout, force=options.force, retry_failed=options.retry_failed,
                      dry_run=options.dry_run)
    # Outputs of different arguments can meet only if there are several, or loose files.
    planner.claim_targets = paths.streamed or len(paths.args) > 1 or any(
        not os.path.isdir(path) for path in paths.args)
    if options.layout.writes:
        for path in paths.args:
            if os.path.isdir(path):
                planner.open_root(options.layout.root_for(Found(path, path, "")))
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


def make_executor(options: RunOptions, spec: WorkerSpec):
    """The executor named by `options.executor`: local processes, or a Dask cluster."""
    if options.dry_run:
        return PlanOnly()
    if options.executor == "local":
        from batchproc.local_executor import LocalExecutor

        return LocalExecutor(spec, options.jobs, start_method=options.start_method,
                             timeout=options.timeout)
    if options.executor == "dask":
        try:
            from batchproc.dask.executor import DaskExecutor
        except ImportError as error:
            raise UsageError(f"--executor dask needs Dask: pip install 'batchproc[dask]' ({error})") from None
        return DaskExecutor(spec, options.scheduler, jobs=options.jobs, timeout=options.timeout)
    raise UsageError(f"unknown executor {options.executor!r}: use local or dask")


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
            wait([feed], timeout=0.2)


class _Walker(threading.Thread):
    """Walks and plans in the background, so work starts before the walk ends."""

    def __init__(self, paths, options: RunOptions, planner: Planner, feed: Feed, max_chunk: int):
        super().__init__(name="batchproc-walk", daemon=True)
        self.paths = paths
        self.options = options
        self.planner = planner
        self.feed = feed
        self.max_chunk = max_chunk
        self.found = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        chunk: list[Task] = []
        try:
            for folder in walk(self.paths, self.options.rules):
                if self.feed.cancelled:
                    return
                self.found += len(folder)
                for item in self.planner.plan_folder(folder):
                    if isinstance(item, Task):
                        chunk.append(item)
                        if len(chunk) >= chunk_size(self.found, self.options.jobs, self.max_chunk):
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


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
