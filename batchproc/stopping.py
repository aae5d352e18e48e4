"""Stopping a run: the first Ctrl-C drains, a second one (or SIGTERM) stops at once. A watch
drains on SIGTERM too (it is how a service is stopped), and reopens its log on SIGHUP."""

from __future__ import annotations

import contextlib
import signal
import threading

from batchproc.errors import ExitCode


class StopControl:
    """Flags the dispatch loop polls; set from signal handlers, never by raising mid-write."""

    def __init__(self) -> None:
        #: Dispatch no more work; let files in flight finish.
        self.draining = False
        #: Kill the workers now.
        self.aborting = False
        #: What asked for the stop: "interrupted", "terminated", "stopped: disk full", ...
        self.reason: str | None = None
        #: The exit code the stop stands for.
        self.exit_code: ExitCode | None = None
        #: Counts SIGHUPs while watching: a log opened before the last one is to be reopened.
        self.log_generation = 0

    def drain(self, reason: str, exit_code: ExitCode = ExitCode.INTERRUPTED) -> None:
        if not self.draining:
            self.draining = True
            self.reason, self.exit_code = reason, exit_code

    def abort(self, reason: str, exit_code: ExitCode = ExitCode.INTERRUPTED) -> None:
        self.drain(reason, exit_code)
        self.aborting = True


@contextlib.contextmanager
def handle_signals(control: StopControl, *, watching: bool = False):
    """Route SIGINT and SIGTERM (and, `watching`, SIGHUP) to `control` while the block runs
    (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield control
        return

    def on_interrupt(signum, frame):
        if control.draining:
            control.abort("interrupted")
        else:
            control.drain("interrupted")

    def on_terminate(signum, frame):
        if watching and not control.draining:
            control.drain("terminated", ExitCode.TERMINATED)
        else:
            control.abort("terminated", ExitCode.TERMINATED)
        control.reason, control.exit_code = "terminated", ExitCode.TERMINATED

    def on_hangup(signum, frame):
        control.log_generation += 1

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, on_interrupt),
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_terminate),
    }
    if watching:
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
    try:
        yield control
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
