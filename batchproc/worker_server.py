"""The server workers start from (multiprocessing's forkserver), started as early as the run's
step is known, so that the imports it does for every worker (batchproc's worker code, the
step's module, Pillow, libvips...) overlap the parent's own start instead of following it."""

from __future__ import annotations

#: Imported by the server in any case: the worker's own code.
WORKER_MODULES = ("batchproc.local_worker",)


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
