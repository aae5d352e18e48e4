"""Local worker processes, supervised: a dead or hung worker costs one attempt at one file.

`multiprocessing.Pool` waits forever for a task whose worker was killed, and cannot kill a hung
one. This pool keeps Pool's shape (chunks in, results out as they finish, the step built once
per worker from explicit settings) on `Process` + one `Pipe` per worker, and watches each
worker's sentinel: it always knows which file a worker holds, so a death or a timeout is
charged to that file and the rest of the worker's chunk is handed to another.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from typing import Iterator

from batchproc.errors import BatchprocError
from batchproc.feed import IDLE_WAIT, Feed, wait_readable
from batchproc.memory import megabytes, tree_resident
from batchproc.outputs import remove_temporaries
from batchproc.pacing import Pace
from batchproc.process_tree import death_cause, kill_process
from batchproc.result_batch import ResultBatch
from batchproc.results import FileResult, failed, not_started
from batchproc.stopping import StopControl
from batchproc import worker_server
from batchproc.task import Task, WorkerSpec

#: Chunks a worker may hold at once: one running, one waiting, so it never idles between them.
DEPTH = 2
#: How often the workers' memory and time on a file are looked at, at most (nanoseconds).
LIMITS_EVERY_NS = 40_000_000
#: A worker that dies this many times before it is ready means the step cannot start at all.
STARTUP_DEATHS_ALLOWED = 3


class _Worker:
    def __init__(self, index, process, connection):
        self.index = index
        self.process = process
        self.connection = connection
        self.ready = False
        self.chunks: deque[tuple[int, list[Task]]] = deque()
        self.pending: dict[int, Task] = {}
        #: Why the parent killed it, charged to the file it held; None if it was not killed.
        self.killed_for: str | None = None
        #: The file it held must not be tried again (it needs more memory than allowed).
        self.kill_quarantines = False


#: A slot's value while its worker holds no file.
IDLE = -1


class LocalExecutor:
    """Runs chunks on `jobs` worker processes of this machine."""

    def __init__(self, spec: WorkerSpec, jobs: int, *, start_method: str | None = None,
                 preload: tuple[str, ...] = (), timeout: float | None = None,
                 max_memory: int | None = None, crash_retries: int = 1,
                 timeout_grace: float = 0.0) -> None:
        self.spec = spec
        self.jobs = max(1, jobs)
        self.start_method = start_method
        self.preload = preload
        #: multiprocessing's context and the shared slots, made when the first worker starts
        #: (a run with nothing to do never imports multiprocessing).
        self.context = None
        self.timeout = timeout
        #: Seconds past the timeout before the parent steps in, for steps that stop their own
        #: work at the timeout (exec kills its command): the parent's kill is then the backstop.
        self.timeout_grace = timeout_grace
        #: Bytes of resident memory a worker may use; one that crosses it is stopped.
        self.max_memory = max_memory
        self.crash_retries = crash_retries
        self._slots = self._stop_flag = None
        self._workers: list[_Worker | None] = [None] * self.jobs
        self._attempts: dict[int, int] = {}
        self._startup_deaths = 0
        self._chunk_ids = itertools.count()
        self._limits_checked = 0
        #: How much work a chunk may hold, as files have taken so far.
        self.pace = Pace(self.jobs, DEPTH)

    def run(self, feed: Feed, control: StopControl) -> Iterator[FileResult | ResultBatch]:
        """Yield a result for every task taken from `feed`, in completion order (files that
        went plainly come in batches)."""
        retry: deque[list[Task]] = deque()
        try:
            while True:
                yield from feed.take_results()
                if control.aborting:
                    yield from self._abort(feed, control)
                    return
                if control.draining:
                    if self._stop_flag is not None:
                        self._stop_flag.value = 1
                    for task in feed.cancel():
                        yield not_started(task, control.reason)
                    for chunk in retry:
                        for task in chunk:
                            yield not_started(task, control.reason)
                    retry.clear()
                else:
                    self._dispatch(feed, retry)
                busy = [w for w in self._workers if w is not None and w.chunks]
                if not busy and not retry and (feed.exhausted or control.draining):
                    yield from feed.take_results()
                    return
                waitables = [feed] + [w.connection for w in busy] + [w.process.sentinel for w in busy]
                ready = wait_readable(waitables, timeout=self._tick() if busy else IDLE_WAIT)
                for worker in busy:
                    if worker.connection in ready or worker.process.sentinel in ready:
                        yield from self._receive(worker, control)
                    if worker.process.sentinel in ready:
                        yield from self._bury(worker, retry, control)
                self._enforce_limits()
        except GeneratorExit:  # the caller gave up on us (stdout closed, an error): stop now
            self._kill_all()
            raise
        finally:
            self._shutdown()

    def _tick(self) -> float:
        # Memory can grow by gigabytes a second: look often while a file is being worked on.
        return 0.05 if self.timeout or self.max_memory else 0.2

    def _dispatch(self, feed: Feed, retry: deque) -> None:
        # Breadth first: every worker gets a chunk before any gets a second one.
        for depth in range(1, DEPTH + 1):
            for index in range(self.jobs):
                worker = self._workers[index]
                if worker is not None and (worker.killed_for or len(worker.chunks) >= depth):
                    continue
                chunk = retry.popleft() if retry else feed.take_chunk()
                if chunk is None:
                    return
                left = _left(feed, retry)
                chunk = self.pace.cut(chunk, retry, None if left is None else left + len(chunk))
                if worker is None:
                    worker = self._start(index)
                chunk_id = next(self._chunk_ids)
                worker.chunks.append((chunk_id, chunk))
                worker.pending.update((task.seq, task) for task in chunk)
                try:  # as plain tuples: a named tuple pickles through a Python call each
                    worker.connection.send((chunk_id, [tuple(task) for task in chunk]))
                except OSError:  # it died since we last looked: its sentinel will say so, and
                    pass  # _bury hands this chunk to another worker

    def _prepare(self) -> None:
        import multiprocessing

        method = self.start_method or worker_server.default_start_method()
        self.context = multiprocessing.get_context(method)
        if method == "forkserver":  # the CLI has most likely started it already
            worker_server.start(self.preload)
        # Per worker slot: the seq of the file in hand (or IDLE) and when it started.
        self._slots = self.context.RawArray("q", [IDLE, 0] * self.jobs)
        self._stop_flag = self.context.RawValue("b", 0)

    def _start(self, index: int) -> _Worker:
        from batchproc.local_worker import serve

        if self.context is None:
            self._prepare()
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(
            target=serve,
            args=(child_end, self.spec, self._slots, index, self._stop_flag),
            name=f"batchproc-worker-{index}",
            daemon=True,
        )
        process.start()
        child_end.close()
        self._slots[2 * index] = IDLE
        worker = _Worker(index, process, parent_end)
        self._workers[index] = worker
        return worker

    def _receive(self, worker: _Worker, control: StopControl) -> Iterator[FileResult]:
        try:
            while worker.connection.poll():
                message = worker.connection.recv()
                kind = message[0]
                if kind == "ready":
                    worker.ready = True
                elif kind == "init-failed":
                    raise BatchprocError(f"workers cannot start the step: {message[1]}")
                else:
                    _, batch, others = message
                    if batch is not None:
                        for seq in batch.seqs:
                            worker.pending.pop(seq, None)
                        self.pace.note(batch)
                        yield batch
                    for result in others:
                        worker.pending.pop(result.seq, None)
                        self.pace.note(result)
                        yield result
                    if kind == "done":
                        _, chunk = worker.chunks.popleft()
                        # Tasks a draining worker never started: give them back as interrupted.
                        for task in chunk:
                            if worker.pending.pop(task.seq, None) is not None:
                                yield not_started(task, control.reason)
        except (EOFError, OSError):
            pass  # the worker died; its sentinel says so and _bury handles the rest

    def _bury(self, worker: _Worker, retry: deque, control: StopControl) -> Iterator[FileResult]:
        """Account for every task a dead worker held, then forget it (a new one starts on demand)."""
        worker.process.join(1)
        cause = worker.killed_for or death_cause(worker.process.exitcode)
        held = self._slots[2 * worker.index]
        self._slots[2 * worker.index] = IDLE
        self._workers[worker.index] = None
        worker.connection.close()
        if not worker.ready:
            self._startup_deaths += 1
            if self._startup_deaths >= STARTUP_DEATHS_ALLOWED:
                raise BatchprocError(f"workers die as they start ({cause})")
        culprit = worker.pending.pop(held, None)
        if culprit is not None:
            _clean_up_after(culprit, worker.process.pid)
            yield from self._charge(culprit, cause, retry, control, killed=worker.killed_for is not None,
                                    quarantine=worker.kill_quarantines)
        others = list(worker.pending.values())
        if others:
            retry.append(others)

    def _charge(self, task, cause, retry, control, *, killed, quarantine) -> Iterator[FileResult]:
        """A worker died holding `task`: retry a crash once, fail what the parent killed."""
        attempts = self._attempts.get(task.seq, 0) + 1
        self._attempts[task.seq] = attempts
        if control.draining or killed:
            result = failed(task.source, cause, task.output, task.seq)
            result.quarantined = quarantine
            result.retryable = killed and not quarantine  # a timeout may pass: --retries
            yield result
        elif attempts > self.crash_retries:
            result = failed(task.source, f"{cause} (quarantined after {attempts} attempts)",
                            task.output, task.seq)
            result.quarantined = True
            yield result
        else:
            retry.appendleft([task])

    def _enforce_limits(self) -> None:
        """Kill a worker that has spent too long on one file, or uses more memory than allowed."""
        if (not self.timeout and not self.max_memory) or self._slots is None:
            return
        now = time.monotonic_ns()
        if now - self._limits_checked < LIMITS_EVERY_NS:  # results may arrive far more often
            return
        self._limits_checked = now
        for worker in self._workers:
            if worker is None or worker.killed_for or not worker.process.is_alive():
                continue
            held, started = self._slots[2 * worker.index], self._slots[2 * worker.index + 1]
            # The worker and every process below it: the commands `exec` runs count too.
            if self.max_memory and tree_resident(worker.process.pid) > self.max_memory:
                if held == IDLE:  # memory kept from an earlier file: start afresh, charge no one
                    kill_process(worker.process)
                    continue
                worker.killed_for = f"needs more than {megabytes(self.max_memory)} (--max-memory)"
                worker.kill_quarantines = True
                kill_process(worker.process)
            elif self.timeout and held != IDLE and now - started > (self.timeout + self.timeout_grace) * 1e9:
                worker.killed_for = f"timed out after {self.timeout:g} s"
                kill_process(worker.process)

    def _abort(self, feed: Feed, control: StopControl) -> Iterator[FileResult]:
        for task in feed.cancel():
            yield not_started(task, control.reason)
        for worker in self._workers:
            if worker is None:
                continue
            kill_process(worker.process)
            worker.process.join(2)
            for task in worker.pending.values():
                _clean_up_after(task, worker.process.pid)
                yield not_started(task, control.reason)
            worker.pending.clear()
            worker.chunks.clear()

    def _kill_all(self) -> None:
        for worker in self._workers:
            if worker is not None:
                kill_process(worker.process)
                for task in worker.pending.values():
                    _clean_up_after(task, worker.process.pid)

    def _shutdown(self) -> None:
        for worker in self._workers:
            if worker is None:
                continue
            try:
                worker.connection.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5
        for index, worker in enumerate(self._workers):
            if worker is None:
                continue
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                kill_process(worker.process)
                worker.process.join(1)
            worker.connection.close()
            self._workers[index] = None


def _left(feed: Feed, retry: deque) -> int | None:
    """Tasks still to send once the walk is over; None before."""
    left = feed.left
    return None if left is None else left + sum(len(chunk) for chunk in retry)


def _clean_up_after(task: Task, pid: int) -> None:
    for folder in {os.path.dirname(target) for target in task.targets}:
        remove_temporaries(folder, pid)
