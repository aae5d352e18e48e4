"""Running a step on one file, wherever the worker lives: every outcome becomes a result record.

An output is written to a temporary file beside its target, checked to read back (the step's
`verify`), and only then renamed into place: nothing is ever replaced by an output that was
not verified.
"""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import stat
import time
import traceback
from pathlib import Path

from batchproc import previews
from batchproc.errors import StepError, Unchanged
from batchproc.outputs import temporary_path
from batchproc.walk import TEMP_PREFIX
from batchproc.results import FAILED, OK, SKIPPED, FileResult
from batchproc.step import Step
from batchproc.task import Task, WorkerSpec

#: errno values that mean no later file can be written either.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def run_task(step: Step, task: Task, spec: WorkerSpec, capture=None) -> FileResult:
    """Process one file; never raises. Outputs appear atomically, all of them or none.

    `capture` (a batchproc.capture.Capture) gathers what libraries said into the record."""
    started = time.perf_counter()
    result = FileResult(FAILED, task.source, output=task.output, seq=task.seq)
    temporaries: list[str] = []
    offered = previews.Offered(spec.previews) if spec.previews else None
    scope = previews.start(offered)  # the step and its check may offer thumbnails
    try:
        before = os.stat(task.source)
        if not stat.S_ISREG(before.st_mode):
            raise StepError("no longer a regular file")
        if task.expected is not None and (before.st_size, before.st_mtime_ns) != task.expected:
            raise InputChanged("input changed since it settled")
        result.bytes_in = before.st_size
        for target in task.targets:
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            temporaries.append(temporary_path(target))
        replaces_input = task.source in task.targets
        try:
            data = step.process(Path(task.source), _step_target(temporaries))
            copied = False
        except Unchanged as unchanged:
            if replaces_input:  # the input already is its own output: nothing to replace
                _unchanged_in_place(result, unchanged, before)
                return result
            for temporary in temporaries:
                shutil.copyfile(task.source, temporary)
            data, copied = unchanged.data, True
        if data:
            _check_sendable(step, data)
            result.data = _real_paths(dict(data), temporaries, task.targets) if temporaries else dict(data)
        _check_unchanged_input(task.source, before)
        if temporaries:
            _verify(step, temporaries, result.data, thorough=spec.verify == "full" or replaces_input or copied)
            _publish(step, task, temporaries, result, before, spec.file_mode)
            temporaries = []
        result.fingerprint = result.fingerprint or (before.st_size, before.st_mtime_ns)
        result.status = OK
    except InputChanged as error:
        result.error, result.input_changed = str(error), True
    except StepError as error:
        result.error = _real_paths(str(error), temporaries, task.targets)
        result.stops_run = error.stops_run
        result.retryable = error.retryable and not error.stops_run
        if error.data:
            result.data = _real_paths(_sendable(step, error.data), temporaries, task.targets)
    except OSError as error:
        result.error = describe_os_error(error, dict(zip(temporaries, task.targets)))
        if error.errno in _DISK_FULL:
            result.stops_run = error.strerror or result.error
        result.retryable = not result.stops_run
    except MemoryError:
        result.error = "ran out of memory"
    except Exception as error:
        result.error = describe_unexpected(step, error)
        result.traceback = traceback.format_exc()
        result.retryable = True
    except BaseException as error:  # SystemExit, KeyboardInterrupt raised by a step
        what = "tried to exit the worker" if isinstance(error, SystemExit) else "was interrupted"
        result.error = f"step {step.name} {what}"
    finally:
        for temporary in temporaries:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        if capture is not None:
            result.warnings = capture.take()
        if offered is not None:
            result.previews = offered.pair(fallbacks=result.status == OK)
        previews.stop(scope)
        result.ms = (time.perf_counter() - started) * 1000
    return result


def _unchanged_in_place(result: FileResult, unchanged: Unchanged, before: os.stat_result) -> None:
    result.status, result.error = SKIPPED, unchanged.reason
    result.data = dict(unchanged.data)
    result.fingerprint = (before.st_size, before.st_mtime_ns)


def _check_unchanged_input(source: str, before: os.stat_result) -> None:
    after = os.stat(source)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise InputChanged("input changed while it was being processed")


class InputChanged(StepError):
    """The input is not the file it was when its work began (or when it settled)."""


def _verify(step: Step, temporaries: list[str], data: dict, *, thorough: bool) -> None:
    """The step's own check that each output reads back; a failure is this file's failure."""
    for temporary in temporaries:
        if not os.path.exists(temporary):
            raise StepError(f"step {step.name} wrote no output")
    try:
        step.verify([Path(t) for t in temporaries], data, thorough=thorough)
    except StepError as error:
        raise StepError(f"output did not read back: {error}") from None
    except OSError:
        raise
    except Exception as error:  # the library that reads it back has its own words for it
        raise StepError(f"output did not read back: {error_text(error)}") from None


def _real_paths(value, temporaries: list[str], targets: tuple[str, ...]):
    """A text (or the texts of a record's fields) naming the real output paths, never the
    temporary ones the user cannot see (a command's stderr names the file it was told to write)."""
    if isinstance(value, dict):
        return {key: _real_paths(item, temporaries, targets) for key, item in value.items()}
    if isinstance(value, str) and TEMP_PREFIX in value:
        for temporary, target in zip(temporaries, targets):
            value = value.replace(temporary, target)
    return value


def _sendable(step: Step, data) -> dict:
    """A failed file's fields, if they can be sent back (else the error alone is)."""
    try:
        _check_sendable(step, data)
    except StepError:
        return {}
    return dict(data)


def _check_sendable(step: Step, data) -> None:
    # Fail here, as this file's error, rather than later in the pipe to the parent.
    try:
        pickle.dumps(data)
    except Exception as error:
        raise StepError(f"step {step.name} returned a value that cannot be sent back "
                        f"({error_text(error)})") from None


def _step_target(temporaries: list[str]):
    # Most steps write one output and get one Path; steps with several outputs get a list.
    if not temporaries:
        return None
    return Path(temporaries[0]) if len(temporaries) == 1 else [Path(t) for t in temporaries]


def _publish(step, task, temporaries, result, before, file_mode) -> None:
    """Rename each temporary output over its target: readers see the old file or the new one."""
    bytes_out, oldest = 0, None
    for temporary, target in zip(temporaries, task.targets):
        os.chmod(temporary, stat.S_IMODE(before.st_mode) if target == task.source else file_mode)
        os.replace(temporary, target)
        written = os.stat(target)
        bytes_out += written.st_size
        oldest = written.st_mtime_ns if oldest is None else min(oldest, written.st_mtime_ns)
        if target == task.source:  # in place: the file as written is what the next run will see
            result.fingerprint = (written.st_size, written.st_mtime_ns)
    result.bytes_out = bytes_out
    result.output_mtime_ns = oldest
    step.after_publish(Path(task.source), [Path(target) for target in task.targets])


def describe_os_error(error: OSError, renamed: dict[str, str] | None = None) -> str:
    """'Permission denied: /out/a.jpg': what and, if known, where (the real output path, never
    the temporary one the user cannot see)."""
    text = error.strerror or error_text(error)
    if not error.filename:
        return text
    filename = os.fsdecode(error.filename)
    return f"{text}: {(renamed or {}).get(filename, filename)}"


def describe_unexpected(step: Step, error: BaseException) -> str:
    """An exception nobody expected (a bug, or a library's own error type), in words: the
    step and the message; the traceback goes to the log."""
    return f"step {step.name} failed unexpectedly: {error_text(error)}"


def error_text(error: BaseException) -> str:
    """The first line of an exception's message, or a phrase when it has none."""
    try:
        text = str(error).strip()
    except Exception:  # a hostile __str__
        text = ""
    return text.splitlines()[0] if text else "no details given"
