"""The life of a local worker process: build the step once, run the chunks it is sent, report
results, and exit on its own if the parent dies."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait

from batchproc.results import FileResult
from batchproc.capture import Capture
from batchproc.execution import error_text, run_task
from batchproc.local_executor import IDLE
from batchproc.process_tree import kill_tree
from batchproc.task import WorkerSpec, build_step



def serve(connection, spec: WorkerSpec, slots, index: int, stop_flag) -> None:
    """A worker's life: build the step, then run chunks until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    faulthandler.disable()  # a crashing step is reported as its file's failure, not a dump
    _exit_with_parent()
    capture = Capture()
    try:
        step = build_step(spec)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        connection.send(("init-failed", error_text(error)))
        return
    connection.send(("ready",))
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        chunk_id, tasks = message
        batch: list[FileResult] = []
        flushed = time.monotonic()
        for task in tasks:
            if stop_flag.value:
                break
            slots[2 * index + 1] = time.monotonic_ns()
            slots[2 * index] = task.seq
            result = run_task(step, task, spec, capture)
            slots[2 * index] = IDLE
            batch.append(result)
            if result.stops_run:
                break  # no later file can be written: hand the rest back unstarted
            if time.monotonic() - flushed > 0.1:  # keep the bar moving on long chunks
                connection.send(("results", batch))
                batch, flushed = [], time.monotonic()
        connection.send(("done", batch))


def _exit_with_parent() -> None:
    """Exit within moments if the parent dies, even mid-file (it cannot tell us: it is gone)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        wait([parent.sentinel])
        kill_tree(os.getpid(), include_root=False)  # the commands it runs go with it
        os._exit(1)

    threading.Thread(target=watch, name="batchproc-parent-watch", daemon=True).start()
