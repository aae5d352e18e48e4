"""The server workers start from (multiprocessing's forkserver), started as early as the run's
step is known, so that the imports it does for every worker (batchproc's worker code, the
step's module, Pillow, libvips...) overlap the parent's own start instead of following it."""

from __future__ import annotations

#: Imported by the server in any case: the worker's own code.
WORKER_MODULES = ("batchproc.local_worker",)


def default_start_method() -> str:
    """forkserver where it exists (Linux, macOS), else spawn: never fork, because the parent
    runs a walking thread, and a child forked while a thread holds a lock (the import lock,
    SQLite's, an allocator's) inherits it held and can hang. Python 3.14 made the same choice."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def start(modules) -> None:
    """Start the forkserver now (where it exists), preloading `modules` as well; a second call,
    or one after the server is up, changes nothing."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(dict.fromkeys((*WORKER_MODULES, *modules))))
    forkserver.ensure_running()


def modules_of(step_class) -> tuple[str, ...]:
    """What the server should import for a step: its module and what it asks for."""
    return (step_class.__module__, *getattr(step_class, "preload_modules", ()))
