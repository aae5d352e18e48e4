"""Paths between the client and Dask workers, which share a filesystem but not a working folder.

Tasks leave with absolute paths; results come back with the paths the user gave, error texts
included, so records read as in a local run. A worker that dies mid-file leaves its temporary
output behind, which the client (seeing the same files) deletes.
"""

from __future__ import annotations

import os

from batchproc.outputs import remove_temporaries
from batchproc.results import FileResult
from batchproc.task import Task


def absolute(task: Task) -> Task:
    """The task as any worker can find it, whatever its working folder."""
    return task._replace(source=os.path.abspath(task.source),
                         targets=tuple(os.path.abspath(target) for target in task.targets))


def as_given(result: FileResult, task: Task, sent: Task) -> FileResult:
    """A worker's result with the input and output paths as the user gave them."""
    result.input, result.output = task.source, task.output
    if result.error and sent != task:
        pairs = [(sent.source, task.source), *zip(sent.targets, task.targets)]
        pairs += [(os.path.dirname(a), os.path.dirname(g)) for a, g in pairs if os.path.dirname(g)]
        for sent_path, given_path in pairs:  # whole paths first, then their folders
            result.error = result.error.replace(sent_path, given_path)
    return result


class Leftovers:
    """The output folders a run writes into and the worker processes that ran its files: at the
    end, whatever processes that died meanwhile left there is deleted, as the local pool does."""

    def __init__(self) -> None:
        self.folders: set[str] = set()
        self.pids: dict[str, int] = {}  # worker address -> its process id

    def note_task(self, task: Task) -> None:
        self.folders.update(os.path.dirname(target) for target in task.targets)

    def note_worker(self, address: str, pid: int) -> None:
        self.pids[address] = pid

    def remove(self, alive: set[int]) -> None:
        """Delete the temporaries of every worker noted whose process is not in `alive` (the
        workers' pids now: a pid of one machine may live on another, and is then spared)."""
        for pid in set(self.pids.values()) - alive:
            for folder in self.folders:
                remove_temporaries(folder, pid)
