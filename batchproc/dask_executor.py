"""Running chunks on a Dask cluster: the walk stays here, chunks go to the workers, results stream back.

Dask carries the distribution and the resilience. A chunk whose worker dies is rescheduled by
the scheduler on another worker (up to `distributed.scheduler.allowed-failures` times); only a
chunk that keeps killing workers ends as KilledWorker, and then its files are retried one per
task, so that only the file that kills workers is failed. Inputs and outputs are reached through
paths every worker can see (a shared filesystem): tasks travel with absolute paths, and results
come back with the paths the user gave, so records read as in a local run.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import select
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

from distributed import Client, KilledWorker, LocalCluster, as_completed, get_worker
from distributed.comm.addressing import parse_address, parse_host_port
from distributed.comm.registry import get_backend

from batchproc.errors import BatchprocError, UsageError
from batchproc.feed import Feed
from batchproc.results import SKIPPED, FileResult, Task, failed
from batchproc.stopping import StopControl
from batchproc.worker import WorkerSpec, build_step, one_line, run_task

#: Chunks kept in flight per worker thread: enough that no worker waits for this client.
DEPTH = 3
#: Seconds to reach the scheduler before giving up.
CONNECT_TIMEOUT = 10
#: Seconds the cluster may have no worker at all before the run stops instead of waiting forever.
NO_WORKERS_PATIENCE = 60.0
#: The event topic on which workers say that a chunk has started (for --timeout and Ctrl-C).
STARTED_TOPIC = "batchproc-chunk-started"


class StepUnavailable(Exception):
    """A worker cannot build the step (the plugin is not installed there, bad settings)."""


@dataclass
class _Chunk:
    tasks: list[Task]  # as the walk made them: the paths the user gave
    sent: list[Task]  # as the workers see them: absolute paths


class DaskExecutor:
    """Runs chunks on the Dask scheduler at `scheduler`, or on a LocalCluster of `jobs` processes."""

    def __init__(self, spec: WorkerSpec, scheduler: str | None = None, *, jobs: int = 1,
                 timeout: float | None = None) -> None:
        self.spec = spec
        self.scheduler = scheduler
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._run_id = uuid.uuid4().hex[:8]
        self._keys = itertools.count()
        self._in_flight: dict = {}  # Future -> _Chunk
        self._started: dict[str, tuple[float, str]] = {}  # key -> (monotonic start, worker address)
        self._threads, self._threads_checked, self._workerless_since = 1, 0.0, None

    def run(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        """Yield a result for every task taken from `feed`, in completion order."""
        try:
            self._connect()
            completed = as_completed(loop=self._client.loop, with_results=True, raise_errors=False)
            while True:
                yield from feed.take_results()
                self._worker_threads()  # raises when the cluster has had no worker for too long
                if control.aborting:
                    yield from self._abort(feed, control)
                    return
                if control.draining:
                    yield from self._drain(feed, control)
                else:
                    self._dispatch(feed, completed)
                if not self._in_flight and (feed.exhausted or control.draining):
                    yield from feed.take_results()
                    return
                self._wait(completed, feed, want_feed=not control.draining and self._has_room())
                for future, outcome in completed.next_batch(block=False):
                    yield from self._finish(future, outcome, completed, control)
                yield from self._enforce_timeout(completed, control)
        except OSError as error:  # the connection to the scheduler broke (CommClosedError is one)
            raise BatchprocError(f"lost the Dask scheduler {self._where()}: {error}") from None
        finally:
            self._close()

    def _connect(self) -> None:
        if self.scheduler:
            _check_address(self.scheduler)
            try:
                self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise BatchprocError(f"cannot reach the Dask scheduler at {self.scheduler}: {error}") from None
        else:
            self._cluster = start_local_cluster(self.jobs, silence_logs=logging.CRITICAL)
            self._client = Client(self._cluster, set_as_default=False)
        self._client.subscribe_topic(STARTED_TOPIC, self._note_start)

    def _note_start(self, event) -> None:
        # Called on the client's event-loop thread; a plain dict store is safe under the GIL.
        _, (key, address) = event
        if key.startswith(self._key_prefix()):
            self._started[key] = (time.monotonic(), address)

    def _key_prefix(self) -> str:
        return f"batchproc-{self.spec.step_name}-{self._run_id}-"

    def _has_room(self) -> bool:
        return len(self._in_flight) < DEPTH * self._worker_threads()

    def _worker_threads(self) -> int:
        """Threads across the cluster (asked at most once a second); stops a run left with none."""
        now = time.monotonic()
        if now - self._threads_checked >= 1.0:
            self._threads_checked = now
            self._threads = sum(self._client.nthreads().values())
            if self._threads:
                self._workerless_since = None
            elif self._workerless_since is None:
                self._workerless_since = now
            elif now - self._workerless_since > NO_WORKERS_PATIENCE:
                raise BatchprocError(f"no Dask worker joined the scheduler {self._where()} "
                                     f"for {NO_WORKERS_PATIENCE:g} s")
        return max(1, self._threads)

    def _dispatch(self, feed: Feed, completed: as_completed) -> None:
        while self._has_room():
            chunk = feed.take_chunk()
            if chunk is None:
                return
            self._submit(chunk, completed)

    def _submit(self, tasks: list[Task], completed: as_completed) -> None:
        sent = [task._replace(source=os.path.abspath(task.source),
                              targets=tuple(os.path.abspath(target) for target in task.targets))
                for task in tasks]
        future = self._client.submit(run_chunk, self.spec, sent, key=f"{self._key_prefix()}{next(self._keys)}")
        self._in_flight[future] = _Chunk(tasks, sent)
        completed.add(future)

    def _wait(self, completed: as_completed, feed: Feed, *, want_feed: bool) -> None:
        """Until a chunk finishes, or (when there is room for more) the walk hands over work."""
        if want_feed and not feed.exhausted:
            # as_completed has no file descriptor to wait on with the feed's: poll it briefly.
            select.select([feed], [], [], 0.01)
            return
        with completed.thread_condition:
            if not completed.has_ready():
                completed.thread_condition.wait(0.1)

    def _finish(self, future, outcome, completed, control) -> Iterator[FileResult]:
        chunk = self._in_flight.pop(future, None)
        self._started.pop(future.key, None)
        if chunk is None:  # cancelled here (drain, timeout): already accounted for
            return
        if future.status == "finished":
            by_seq = {task.seq: (task, sent) for task, sent in zip(chunk.tasks, chunk.sent)}
            for result in outcome:
                yield _as_given(result, *by_seq[result.seq])
            return
        error = future.exception() if future.status == "error" else None
        if isinstance(error, KilledWorker):
            attempts = getattr(error, "allowed_failures", None)
            cause = f"worker died (quarantined after {attempts + 1} attempts)" if attempts else "worker died"
            yield from self._retry_alone(chunk, cause, completed, control, quarantined=True)
        elif isinstance(error, StepUnavailable):
            raise BatchprocError(str(error))
        elif error is not None:
            raise BatchprocError(f"a Dask worker cannot run batchproc: {one_line(error)}")
        else:
            raise BatchprocError(f"the Dask scheduler {self._where()} dropped the work ({future.status})")

    def _retry_alone(self, chunk: _Chunk, cause: str, completed, control, *,
                     quarantined: bool = False) -> Iterator[FileResult]:
        """Retry a doomed chunk's files one per task, so that only the culprit fails with `cause`."""
        if len(chunk.tasks) > 1 and not control.draining:
            for task in chunk.tasks:
                self._submit([task], completed)
            return
        for task in chunk.tasks:
            result = failed(task.source, cause, task.output, task.seq)
            if quarantined:
                result.extra["quarantined"] = True
            yield result

    def _enforce_timeout(self, completed, control) -> Iterator[FileResult]:
        """Best effort: a started chunk may take `timeout` seconds per file; then it is given up,
        its worker restarted (the stuck thread cannot be stopped otherwise), its files retried alone."""
        if not self.timeout:
            return
        now = time.monotonic()
        for future, chunk in list(self._in_flight.items()):
            started = self._started.get(future.key)
            if started is None or now - started[0] < self.timeout * len(chunk.tasks):
                continue
            self._forget(future)
            self._client.restart_workers([started[1]], timeout=30, raise_for_error=False)
            yield from self._retry_alone(chunk, f"timed out after {self.timeout:g} s", completed, control)

    def _drain(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        """Dispatch nothing more; chunks not started yet come back as interrupted."""
        for task in feed.cancel():
            yield _interrupted(task, control)
        for future, chunk in list(self._in_flight.items()):
            if future.key not in self._started:
                self._forget(future)
                for task in chunk.tasks:
                    yield _interrupted(task, control)

    def _abort(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        for task in feed.cancel():
            yield _interrupted(task, control)
        for future, chunk in list(self._in_flight.items()):
            self._forget(future)
            for task in chunk.tasks:
                yield _interrupted(task, control)
        if self._cluster is not None:  # our own workers: stop them now, not after their chunks
            self._cluster.close(timeout=5)
            self._cluster = None

    def _forget(self, future) -> None:
        del self._in_flight[future]
        self._started.pop(future.key, None)
        future.cancel()

    def _where(self) -> str:
        return f"at {self.scheduler}" if self.scheduler else "of the local cluster"

    def _close(self) -> None:
        if self._client is not None:
            try:
                self._client.unsubscribe_topic(STARTED_TOPIC)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            self._client.close(timeout=5)
            self._client = None
        if self._cluster is not None:
            self._cluster.close(timeout=5)
            self._cluster = None


def start_local_cluster(workers: int, **options) -> LocalCluster:
    """A cluster of `workers` processes of one thread each on this machine, reachable only from it.

    The scheduler's HTTP server (metrics, health) takes a free port rather than 8787, which
    another scheduler may hold; no dashboard."""
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None,
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                        **options)


def _check_address(address: str) -> None:
    # A malformed address makes Client hang in its clean-up before it says so: check it first.
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":
            parse_host_port(location)
    except ValueError as error:
        raise UsageError(f"--scheduler {address}: {error}") from None


def _as_given(result: FileResult, task: Task, sent: Task) -> FileResult:
    """A worker's result with the input and output paths as the user gave them."""
    result.input, result.output = task.source, task.output
    if result.error and sent != task:
        pairs = [(sent.source, task.source), *zip(sent.targets, task.targets)]
        pairs += [(os.path.dirname(a), os.path.dirname(g)) for a, g in pairs if os.path.dirname(g)]
        for absolute, given in pairs:  # whole paths first, then their folders
            result.error = result.error.replace(absolute, given)
    return result


def _interrupted(task: Task, control: StopControl) -> FileResult:
    return FileResult(SKIPPED, task.source, output=task.output, error=control.reason or "interrupted",
                      seq=task.seq)


# The worker's side.

_local = threading.local()


def run_chunk(spec: WorkerSpec, chunk: list[Task]) -> list[FileResult]:
    """On a Dask worker: run every task of `chunk` with the step, built once per worker thread."""
    worker = get_worker()
    worker.log_event(STARTED_TOPIC, (worker.get_current_task(), worker.address))
    step = _step_for(spec, worker.address)
    return [run_task(step, task, spec.file_mode) for task in chunk]


def _step_for(spec: WorkerSpec, address: str):
    # Per thread, not per process: a step is written for one file at a time, as the local pool
    # runs it. WorkerSpec holds dicts, so its pickle is the cache key.
    key = pickle.dumps(spec)
    cached = getattr(_local, "step", None)
    if cached is None or cached[0] != key:
        try:
            step = build_step(spec)
        except Exception as error:
            raise StepUnavailable(f"Dask worker {address} cannot start the step: {one_line(error)}") from None
        _local.step = cached = (key, step)
    return cached[1]
