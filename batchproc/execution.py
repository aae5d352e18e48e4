"""Running a step on one file, wherever the worker lives: every outcome becomes a result record."""

from __future__ import annotations

import errno
import os
import pickle
import stat
import time
import traceback
from pathlib import Path

from batchproc.errors import StepError
from batchproc.outputs import temporary_path
from batchproc.results import FAILED, OK, FileResult
from batchproc.task import Task
from batchproc.step import Step


def run_task(step: Step, task: Task, file_mode: int) -> FileResult:
    """Process one file; never raises. Outputs appear atomically, all of them or none."""
    started = time.perf_counter()
    result = FileResult(FAILED, task.source, output=task.output, seq=task.seq)
    temporaries: list[str] = []
    try:
        before = os.stat(task.source)
        if not stat.S_ISREG(before.st_mode):
            raise StepError("no longer a regular file")
        result.bytes_in = before.st_size
        for target in task.targets:
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            temporaries.append(temporary_path(target))
        extra = step.process(Path(task.source), _step_target(temporaries))
        if extra:
            _check_sendable(step, extra)
            result.extra = dict(extra)
        after = os.stat(task.source)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise StepError("input changed while it was being processed")
        result.fingerprint = (before.st_size, before.st_mtime_ns)
        if temporaries:
            _publish(step, task, temporaries, result, before, file_mode)
            temporaries = []
        result.status = OK
    except StepError as error:
        result.error = str(error)
    except OSError as error:
        result.error = describe_os_error(error, dict(zip(temporaries, task.targets)))
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            result.extra["disk_full"] = True  # no later file can be written either
        else:
            result.extra["retryable"] = True
    except Exception as error:
        result.error = one_line(error)
        result.extra["traceback"] = traceback.format_exc()
        result.extra["retryable"] = True
    except BaseException as error:  # SystemExit, KeyboardInterrupt raised by a step
        result.error = f"step {step.name} raised {type(error).__name__}"
    finally:
        for temporary in temporaries:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    result.ms = (time.perf_counter() - started) * 1000
    return result


def _check_sendable(step: Step, extra) -> None:
    # Fail here, as this file's error, rather than later in the pipe to the parent.
    try:
        pickle.dumps(extra)
    except Exception as error:
        raise StepError(f"step {step.name} returned a value that cannot be sent back: "
                        f"{one_line(error)}") from None


def _step_target(temporaries: list[str]):
    # Most steps write one output and get one Path; steps with several outputs get a list.
    if not temporaries:
        return None
    return Path(temporaries[0]) if len(temporaries) == 1 else [Path(t) for t in temporaries]


def _publish(step, task, temporaries, result, before, file_mode) -> None:
    """Rename each temporary output over its target: readers see the old file or the new one."""
    for temporary in temporaries:
        if not os.path.exists(temporary):
            raise StepError(f"step {step.name} wrote no output")
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
    text = error.strerror or str(error)
    if not error.filename:
        return text
    filename = os.fsdecode(error.filename)
    return f"{text}: {(renamed or {}).get(filename, filename)}"


def one_line(error: BaseException) -> str:
    """An unexpected exception as one line: its type and the first line of its message."""
    try:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    except Exception:  # a hostile __str__
        message = ""
    name = type(error).__name__
    return f"{name}: {message}" if message else name
