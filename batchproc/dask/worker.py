"""What runs on a Dask worker: a chunk of tasks, with the step built once per worker thread."""

from __future__ import annotations

import os
import threading
import warnings

from distributed import get_worker

from batchproc.execution import error_text, run_task
from batchproc.process_tree import kill_tree
from batchproc.results import FileResult
from batchproc.step import Step
from batchproc.task import Task, WorkerSpec, build_step

#: The event topic on which workers tell the client which file they begin (--timeout, Ctrl-C).
STARTED_TOPIC = "batchproc-chunk-started"


class StepUnavailable(Exception):
    """A worker cannot build the step (the plugin is not installed there, bad settings)."""


_local = threading.local()


def run_chunk(spec: WorkerSpec, chunk: list[Task], report_each: bool = False) -> list[FileResult]:
    """Run every task of `chunk`; never raises for a file (run_task does not), only when the
    step cannot be built here. The client hears when the chunk begins, or with `report_each`
    when each file does."""
    worker = get_worker()
    key = worker.get_current_task()
    step = _step_for(spec, worker.address)
    results = []
    for task in chunk:
        if report_each or not results:
            worker.log_event(STARTED_TOPIC, (key, task.seq, worker.address, os.getpid()))
        with warnings.catch_warnings(record=True) as said:  # threads share a process here
            warnings.simplefilter("always")
            result = run_task(step, task, spec)
        result.warnings = list(dict.fromkeys(str(w.message) for w in said))
        results.append(result)
    return results


def _step_for(spec: WorkerSpec, address: str) -> Step:
    # Per thread, not per process: a step is written for one file at a time, as the local pool
    # runs it. Each chunk brings its own copy of the spec: equal specs share the step.
    cached = getattr(_local, "step", None)
    if cached is None or cached[0] != spec:
        try:
            step = build_step(spec)
        except Exception as error:
            raise StepUnavailable(f"Dask worker {address} cannot start the step: {error_text(error)}") from None
        _local.step = cached = (spec, step)
    return cached[1]


async def exit_worker() -> None:
    """Kill this worker process at once, and the commands it runs (sent by Client.run, on the
    worker's event loop: only a coroutine may be sent without waiting for an answer, which
    would never come)."""
    kill_tree(os.getpid(), include_root=False)
    os._exit(1)
