"""Inputs deleted while watched: a `deleted` record each, their state dropped, and with
--mirror-deletes their outputs removed.

An input counts when the state has a record of it (a step that keeps no state, such as
checksum: any input of the step's that was not still settling).

Only outputs batchproc knows it made are removed: those the current settings name for the
input, and only when the state records the input as done. An input deleted right after its
own step removed it (compress --no-keep) is not a deletion: see Share.finished.
"""

from __future__ import annotations

import os
import stat

from batchproc.execution import describe_os_error
from batchproc.plan import Planner
from batchproc.results import DELETED, FAILED, FileResult
from batchproc.walk import Found


class Deletion:
    """One input gone."""

    def __init__(self, found: Found, mirror: bool) -> None:
        self.found = found
        self.mirror = mirror

    def results(self, planner: Planner) -> list[FileResult]:
        record = planner.state.recorded(self.found)
        if record is None and planner.step.incremental:  # never done here: nothing to account for
            return []
        return [account_deletion(planner, self.found, record, self.mirror)]


class FolderDeletion:
    """A folder gone (removed, or moved out of the watched tree): every input recorded in it."""

    def __init__(self, root: str, relfolder: str, mirror: bool) -> None:
        self.root, self.relfolder, self.mirror = root, relfolder, mirror

    def results(self, planner: Planner) -> list[FileResult]:
        folder = os.path.join(self.root, self.relfolder)
        anchor = Found(os.path.join(folder, "-"), self.root, f"{self.relfolder}/-")
        root = os.path.abspath(self.root)
        results = []
        for path, record in sorted(planner.state.recorded_below(anchor)):
            relpath = os.path.relpath(path, root)
            found = Found(os.path.join(self.root, relpath), self.root, relpath)
            results.append(account_deletion(planner, found, record, self.mirror))
        return results


def account_deletion(planner: Planner, found: Found, record, mirror: bool) -> FileResult:
    """The record of a deleted input; its state is dropped, its outputs removed if asked."""
    name = os.path.basename(found.path)
    layout = planner.layout
    targets = [layout.target_for(found, output) for output in planner.step.output_names(name)
               ] if layout.writes else []
    targets = [target for target in targets if target != found.path and os.path.lexists(target)]
    shown = targets[0] if len(targets) == 1 else (targets or None)
    result = FileResult(DELETED, found.path, output=shown)
    if mirror and record is not None and record.status == "ok":
        try:
            removed = [target for target in targets if _remove(target)]
        except OSError as error:
            result.status = FAILED
            result.error = f"input deleted, but its output could not be removed: {describe_os_error(error)}"
            return result
        if not layout.in_place:
            for target in removed:
                _remove_empty_folders(os.path.dirname(target), layout.root_for(found))
    planner.state.forget(found.path, found)
    return result


def _remove(path: str) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    os.unlink(path)
    return True


def _remove_empty_folders(folder: str, root: str | None) -> None:
    """Remove the output folders a deletion left empty, up to the output root (kept)."""
    if root is None:
        return
    root = os.path.abspath(root)
    folder = os.path.abspath(folder)
    while folder.startswith(root + os.sep):
        try:
            os.rmdir(folder)
        except OSError:  # not empty (or not ours to remove): stop here
            return
        folder = os.path.dirname(folder)
