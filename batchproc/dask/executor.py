"""Running chunks on a Dask cluster: the walk stays here, chunks go to the workers, results stream back.

Dask carries the distribution and the resilience. A chunk whose worker dies is rescheduled by
the scheduler on another worker (up to `distributed.scheduler.allowed-failures` times); a chunk
that keeps being on workers that die ends as KilledWorker. Dask blames every chunk a dying
worker held, even one only queued there, so the files of such a chunk are retried one at a
time, each alone on the cluster: only a file that kills workers on its own is failed.

Inputs and outputs are reached through paths every worker can see: see dask_paths.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Iterator, NamedTuple

from distributed import Client, Future, KilledWorker, LocalCluster, as_completed

from batchproc.dask.cluster import connect, wait_gone
from batchproc.dask.paths import Leftovers, absolute, as_given
from batchproc.dask.worker import STARTED_TOPIC, StepUnavailable, exit_worker, run_chunk
from batchproc.errors import BatchprocError
from batchproc.feed import IDLE_WAIT, Feed, wait_readable
from batchproc.execution import error_text
from batchproc.results import FileResult, failed, not_started
from batchproc.stopping import StopControl
from batchproc.task import Task, WorkerSpec

#: Chunks kept in flight per worker thread: enough that no worker waits for this client.
DEPTH = 3
#: Seconds of work a chunk carries once files are timed. A chunk's trip through the scheduler
#: costs milliseconds (4 ms on a 2-core machine): the walk's chunks of a few files (one, for
#: a slow step) are packed together until they carry about this much, which keeps that cost
#: near 2%; the first chunks go as the walk makes them, small, for a quick first result, and
#: the last ones are smaller again, so that no worker idles while another ends a long chunk.
CHUNK_SECONDS = 0.2
#: Seconds the cluster may have no worker at all before the run stops instead of waiting forever.
NO_WORKERS_PATIENCE = 60.0


class _Started(NamedTuple):
    at: float  # time.monotonic() here, when the worker's event arrived
    seq: int  # the file the worker began
    address: str  # the worker


@dataclass
class _Chunk:
    tasks: list[Task]  # as the walk made them: the paths the user gave
    sent: list[Task]  # as the workers see them: absolute paths


class DaskExecutor:
    """Runs chunks on the Dask scheduler at `scheduler`, or on a LocalCluster of `jobs` processes."""

    def __init__(self, spec: WorkerSpec, scheduler: str | None = None, *, jobs: int = 1,
                 timeout: float | None = None, max_memory: int | None = None,
                 timeout_grace: float = 0.0) -> None:
        self.spec = spec
        self.scheduler = scheduler
        self.jobs = max(1, jobs)
        self.timeout = timeout
        #: Seconds past the timeout before the worker is replaced, for steps that stop their own
        #: work at the timeout (exec): the replacement is then the backstop.
        self.timeout_grace = timeout_grace
        #: The memory limit of each worker of our own LocalCluster (a scheduler's workers have theirs).
        self.max_memory = max_memory
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._run_id = uuid.uuid4().hex[:8]
        self._keys = itertools.count()
        self._in_flight: dict[Future, _Chunk] = {}
        self._started: dict[str, _Started] = {}  # chunk key -> its latest file begun
        self._leftovers = Leftovers()
        self._suspects: deque[Task] = deque()  # files of chunks Dask gave up on: to retry alone
        self._isolated: Future | None = None  # the suspect running alone, if one is
        self._threads, self._threads_checked, self._workerless_since = 1, 0.0, None
        #: How long a file takes (a moving average of the results so far), None before any.
        self._file_seconds: float | None = None

    def run(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        """Yield a result for every task taken from `feed`, in completion order."""
        with connect(self.scheduler, self.jobs, self.max_memory) as (client, cluster):
            self._client, self._cluster = client, cluster
            client.subscribe_topic(STARTED_TOPIC, self._note_start)
            self._note_workers()
            try:
                yield from self._serve(feed, control)
            finally:
                with contextlib.suppress(Exception):  # best effort: the scheduler may be gone
                    self._leftovers.remove(set(self._worker_pids().values()))

    def _serve(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        try:
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
                if not self._in_flight and not self._suspects and (feed.exhausted or control.draining):
                    yield from feed.take_results()
                    return
                self._wait(completed, feed, want_feed=not control.draining and not self._suspects
                           and self._isolated is None and self._has_room())
                for future, outcome in completed.next_batch(block=False):
                    yield from self._finish(future, outcome, control)
                yield from self._enforce_timeout(completed, control)
        except OSError as error:  # the connection to the scheduler broke (CommClosedError is one)
            raise BatchprocError(f"lost the Dask scheduler {self._where()}: {error}") from None
        except GeneratorExit:  # the caller gave up on us (stdout closed, an error): stop now
            self._stop_now()
            raise

    def _note_start(self, event) -> None:
        # Called on the client's event-loop thread; a plain dict store is safe under the GIL.
        _, (key, seq, address, pid) = event
        if key.startswith(self._key_prefix()):
            self._started[key] = _Started(time.monotonic(), seq, address)
            self._leftovers.note_worker(address, pid)

    def _key_prefix(self) -> str:
        return f"batchproc-{self.spec.step_name}-{self._run_id}-"

    def _has_room(self) -> bool:
        return len(self._in_flight) < DEPTH * self._worker_threads()

    def _worker_threads(self) -> int:
        """Threads across the cluster (asked at most once a second); stops a run left with none."""
        now = time.monotonic()
        if now - self._threads_checked >= 1.0:
            self._threads_checked = now
            threads = self._client.nthreads()
            if threads.keys() - self._leftovers.pids.keys():
                self._note_workers()
            self._threads = sum(threads.values())
            if self._threads:
                self._workerless_since = None
            elif self._workerless_since is None:
                self._workerless_since = now
            elif now - self._workerless_since > NO_WORKERS_PATIENCE:
                raise BatchprocError(f"no Dask worker joined the scheduler {self._where()} "
                                     f"for {NO_WORKERS_PATIENCE:g} s")
        return max(1, self._threads)

    def _note_workers(self) -> None:
        for address, pid in self._worker_pids().items():
            self._leftovers.note_worker(address, pid)

    def _worker_pids(self) -> dict[str, int]:
        return self._client.run(os.getpid, on_error="ignore")

    def _dispatch(self, feed: Feed, completed: as_completed) -> None:
        if self._suspects or self._isolated is not None:
            if not self._in_flight:  # alone, a suspect that kills workers can blame no one else
                self._isolated = self._submit([self._suspects.popleft()], completed)
            return
        while self._has_room():
            chunk = self._packed(feed)
            if chunk is None:
                return
            self._submit(chunk, completed)

    def _packed(self, feed: Feed) -> list[Task] | None:
        """The walk's next chunk, joined by those after it that are ready until it holds about
        CHUNK_SECONDS of work, as files have taken so far (never waiting for the walk)."""
        chunk = feed.take_chunk()
        if chunk is None or self._file_seconds is None:
            return chunk
        wanted = CHUNK_SECONDS / max(self._file_seconds, 1e-6)
        left = feed.left
        if left is not None:  # the walk is over: share what is left out evenly
            wanted = min(wanted, (len(chunk) + left) / (2 * self._worker_threads()))
        while len(chunk) < wanted:
            more = feed.take_chunk()
            if more is None:
                break
            chunk = chunk + more
        return chunk

    def _note_pace(self, results: list[FileResult]) -> None:
        timed = [result.ms for result in results if result.ms is not None and result.status != "skipped"]
        if timed:
            seconds = sum(timed) / len(timed) / 1000
            self._file_seconds = seconds if self._file_seconds is None else \
                0.7 * self._file_seconds + 0.3 * seconds

    def _submit(self, tasks: list[Task], completed: as_completed) -> Future:
        sent = [absolute(task) for task in tasks]
        for task in sent:
            self._leftovers.note_task(task)
        future = self._client.submit(run_chunk, self.spec, sent, bool(self.timeout),
                                     key=f"{self._key_prefix()}{next(self._keys)}")
        self._in_flight[future] = _Chunk(tasks, sent)
        completed.add(future)
        return future

    def _wait(self, completed: as_completed, feed: Feed, *, want_feed: bool) -> None:
        """Until a chunk finishes, or (when there is room for more) the walk hands over work."""
        if want_feed and not feed.exhausted:
            # as_completed has no file descriptor to wait on with the feed's: poll it briefly
            # while chunks are out. With none out (a watch waiting for files), new work rings
            # the feed: wait on it alone.
            wait_readable([feed], timeout=0.01 if self._in_flight else IDLE_WAIT)
            return
        with completed.thread_condition:
            if not completed.has_ready():
                completed.thread_condition.wait(0.1)

    def _finish(self, future, outcome, control) -> Iterator[FileResult]:
        alone = future is self._isolated
        chunk = self._untrack(future)
        if chunk is None:  # cancelled here (drain, timeout): already accounted for
            return
        if future.status == "finished":
            self._note_pace(outcome)
            by_seq = {task.seq: (task, sent) for task, sent in zip(chunk.tasks, chunk.sent)}
            for result in outcome:
                yield as_given(result, *by_seq[result.seq])
            return
        error = future.exception() if future.status == "error" else None
        if isinstance(error, KilledWorker) and not alone:
            self._suspects.extend(chunk.tasks)
        elif isinstance(error, KilledWorker):
            attempts = getattr(error, "allowed_failures", None)
            task = chunk.tasks[0]
            result = failed(task.source, "worker died" if attempts is None else
                            f"worker died (quarantined after {attempts + 1} attempts)", task.output, task.seq)
            result.quarantined = True
            yield result
        elif isinstance(error, StepUnavailable):
            raise BatchprocError(str(error))
        elif error is not None:
            raise BatchprocError(f"a Dask worker cannot run batchproc: {error_text(error)} "
                                 "(is the same batchproc installed on every worker?)")
        else:
            raise BatchprocError(f"lost the Dask scheduler {self._where()}: "
                                 f"the work sent there was {future.status}")

    def _enforce_timeout(self, completed, control) -> Iterator[FileResult]:
        """Best effort, from the workers' reports of each file they begin: a file that takes
        longer fails, its worker is replaced and the rest of its chunk is sent again."""
        if not self.timeout:
            return
        now = time.monotonic()
        for future, chunk in list(self._in_flight.items()):
            started = self._started.get(future.key)
            if started is None or now - started.at < self.timeout + self.timeout_grace:
                continue
            if future.key not in self._client.processing([started.address]).get(started.address, ()):
                del self._started[future.key]  # that worker died since; Dask runs the chunk again
                continue
            self._forget(future)
            self._replace_worker(started.address, future.key)
            rest = []
            for task in chunk.tasks:
                if task.seq == started.seq:
                    result = failed(task.source, f"timed out after {self.timeout:g} s", task.output, task.seq)
                    result.retryable = True  # a timeout may pass: --retries
                    yield result
                elif control.draining:
                    yield not_started(task, control.reason)
                else:
                    rest.append(task)
            if rest:
                self._submit(rest, completed)

    def _replace_worker(self, address: str, cancelled_key: str) -> None:
        """Kill the worker at once, as the local pool does (a stuck thread cannot be stopped
        otherwise); its nanny starts a new one and Dask reschedules what else it held.
        (Client.restart_workers would first wait seconds for a graceful stop.)"""
        # The cancel travels on the client's batched stream, the kill on another connection:
        # should the kill arrive first, the scheduler would hand the stuck chunk to another worker.
        deadline = time.monotonic() + 5
        while (cancelled_key in self._client.processing([address]).get(address, ())
               and time.monotonic() < deadline):
            time.sleep(0.01)
        try:
            self._client.run(exit_worker, workers=[address], wait=False)
        except Exception:  # noqa: BLE001 - best effort: the worker may be gone already
            pass

    def _drain(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        """Dispatch nothing more; chunks not started yet come back as interrupted."""
        for task in [*feed.cancel(), *self._suspects]:
            yield not_started(task, control.reason)
        self._suspects.clear()
        for future, chunk in list(self._in_flight.items()):
            if future.key not in self._started:
                self._forget(future)
                for task in chunk.tasks:
                    yield not_started(task, control.reason)

    def _abort(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        for task in [*feed.cancel(), *self._suspects]:
            yield not_started(task, control.reason)
        self._suspects.clear()
        for chunk in list(self._in_flight.values()):
            for task in chunk.tasks:
                yield not_started(task, control.reason)
        self._stop_now()

    def _stop_now(self) -> None:
        """Cancel everything sent; kill our own LocalCluster's workers rather than let them
        finish their chunks (a scheduler's workers we do not own finish theirs, unheard)."""
        for future in list(self._in_flight):
            self._forget(future)
        if self._cluster is None:
            return
        try:
            self._client.run(exit_worker, wait=False)
        except Exception:  # noqa: BLE001 - closing the cluster stops them anyway, if slower
            return
        wait_gone(set(self._leftovers.pids.values()), timeout=2)

    def _forget(self, future) -> None:
        self._untrack(future)
        future.cancel()

    def _untrack(self, future) -> _Chunk | None:
        """Stop following `future`; its chunk, unless it was forgotten already."""
        if future is self._isolated:
            self._isolated = None
        self._started.pop(future.key, None)
        return self._in_flight.pop(future, None)

    def _where(self) -> str:
        return f"at {self.scheduler}" if self.scheduler else "of the local cluster"
