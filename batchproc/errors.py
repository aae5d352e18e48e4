"""Exit codes and the errors the CLI translates into them."""

import enum


class ExitCode(enum.IntEnum):
    """What a batchproc process tells its caller when it ends."""

    #: Every file ended ok or skipped.
    OK = 0
    #: Some files failed; the others were processed.
    FILES_FAILED = 1
    #: Bad usage: an unknown option, a missing folder, bad geometry.
    USAGE = 2
    #: The failure budget (--max-failures) ran out and the run stopped early.
    FAILURE_BUDGET = 3
    #: The run stopped early on an error no file could get past (disk full, output not writable).
    ABORTED = 4
    #: Another run holds the lock on the same output; this one did nothing.
    LOCKED = 75
    #: Stopped by Ctrl-C (SIGINT).
    INTERRUPTED = 130
    #: stdout was closed early (`| head`).
    BROKEN_PIPE = 141
    #: Stopped by SIGTERM.
    TERMINATED = 143


class BatchprocError(Exception):
    """An expected failure of a whole run, shown as one `Error: ...` line."""

    exit_code = ExitCode.ABORTED


class UsageError(BatchprocError):
    """The command line asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class RunLockedError(BatchprocError):
    """Another run is writing to the same output."""

    exit_code = ExitCode.LOCKED


class StepError(Exception):
    """An expected failure of one file: its message is the file's error text, no traceback.

    `data`: fields for the file's record all the same (exec: the exit status and the end of the
    command's stderr). `stops_run`: why no later file can succeed either (a program that cannot
    be found), which stops the run after the files in flight (exit 4); None for most failures.
    `retryable`: the failure may not happen again (a timeout): --retries may try the file again."""

    def __init__(self, message: str = "", *, data: dict | None = None, stops_run: str | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message)
        self.data = data or {}
        self.stops_run = stops_run
        self.retryable = retryable

    def __reduce__(self):
        return _step_error, (str(self), self.data, self.stops_run, self.retryable)


def _step_error(message, data, stops_run, retryable=False):
    return StepError(message, data=data, stops_run=stops_run, retryable=retryable)


class Unchanged(Exception):
    """Raised by a step's `process` when the output would be the input, byte for byte (an
    image that already fits): batchproc then copies the input, or, in place, skips the file
    with this reason (never re-encoding what needs no change)."""

    def __init__(self, reason: str, data: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        #: Fields for the result record, as `process` would return them.
        self.data = data or {}


def print_error(message: str, stream=None) -> None:
    """The one way an error reaches the user: `Error: message` on stderr."""
    import sys

    print(f"Error: {message}", file=stream or sys.stderr, flush=True)
