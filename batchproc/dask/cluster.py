"""Reaching a Dask cluster: the scheduler the user named, or a LocalCluster of this machine's own."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import Iterator

import dask
from distributed import Client, LocalCluster
from distributed.comm.addressing import parse_address, parse_host_port
from distributed.comm.registry import get_backend

from batchproc.errors import BatchprocError, UsageError

#: Seconds to reach the scheduler before giving up.
CONNECT_TIMEOUT = 10


@contextlib.contextmanager
def connect(scheduler: str | None, jobs: int, memory_limit: int | None = None
            ) -> Iterator[tuple[Client, LocalCluster | None]]:
    """A client of the scheduler at `scheduler`, or of a new LocalCluster of `jobs` worker
    processes of `memory_limit` bytes each (the cluster too, then); closed on the way out. Dask's own log lines stay off the
    terminal meanwhile: every outcome reaches the user as a result or one `Error: ...` line."""
    with _dask_logs_silenced(), contextlib.ExitStack() as stack:
        cluster = None
        if scheduler:
            _check_address(scheduler)
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise BatchprocError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        else:
            try:
                cluster = stack.enter_context(local_cluster(jobs, silence_logs=logging.CRITICAL,
                                                             memory_limit=memory_limit or "auto"))
            except (RuntimeError, OSError, TimeoutError) as error:
                raise BatchprocError(f"cannot start a local Dask cluster: {error}") from None
            client = Client(cluster, set_as_default=False)
        stack.callback(client.close, timeout=5)
        yield client, cluster


@contextlib.contextmanager
def local_cluster(workers: int, **options) -> Iterator[LocalCluster]:
    """A cluster of `workers` processes of one thread each on this machine, reachable only from it.

    Each worker's nanny replaces it when it dies. Two settings hold while the cluster lives:
    LocalCluster would close for good a worker still dead `lost-worker-timeout` after any
    earlier death of it (meant for batch-queue jobs that vanished), which files that kill
    workers would turn into an empty cluster; and fetching a result from a worker that just died
    retries the connection for `timeouts.connect` (30 s) before Dask recomputes it, where every
    live process here answers at once. The scheduler's HTTP server (metrics, health) takes a
    free port rather than 8787, which another scheduler may hold; no dashboard."""
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "3650 days",
                          "distributed.comm.timeouts.connect": "5s"}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None,
                               scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                               **options)
        try:
            yield cluster
        finally:
            cluster.close(timeout=5)


def wait_gone(pids: set[int], timeout: float) -> None:
    """Until these processes of this machine (a LocalCluster's workers) have exited, or `timeout`."""
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, PermissionError):  # gone (its PID perhaps reused)
                pids.discard(pid)
        time.sleep(0.02)


def _check_address(address: str) -> None:
    # A malformed address makes Client hang in its clean-up before it says so: check it first.
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":
            parse_host_port(location)
    except ValueError as error:
        raise UsageError(f"--scheduler {address}: {error}") from None


@contextlib.contextmanager
def _dask_logs_silenced():
    handlers = [h for h in logging.getLogger("distributed").handlers if isinstance(h, logging.StreamHandler)]
    levels = [handler.level for handler in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)
