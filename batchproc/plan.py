"""Deciding, before any worker sees it, what to do with each file the walk found."""

from __future__ import annotations

import json
import os
from collections import Counter

from batchproc.outputs import OutputLayout
from batchproc.result_batch import NONE
from batchproc.results import FileResult, failed, skipped
from batchproc.task import Task
from batchproc.run_state import RunState
from batchproc.state import Record
from batchproc.state_dir import StateLocations
from batchproc.step import Step
from batchproc.walk import Found


class Planner:
    """Turns found files into tasks or into results decided up front (skips, refusals)."""

    def __init__(self, step: Step, layout: OutputLayout, states: StateLocations, *,
                 force: bool = False, retry_failed: bool = False, dry_run: bool = False) -> None:
        self.step = step
        self.layout = layout
        #: The state this run reads and writes (its stores and locks).
        self.state = RunState(step.name, step.incremental, layout, states, dry_run=dry_run)
        self.force = force
        self.retry_failed = retry_failed
        self.dry_run = dry_run
        self.settings_hash = step.settings_hash()
        #: Set when several arguments may meet in one output tree: then every target is remembered.
        self.claim_targets = False
        #: Under --watch: each task carries the size and mtime its file settled with, checked
        #: again when its work begins.
        self.expect_settled = False
        self._claimed: dict[str, str] = {}
        self._records_folder: str | None = None
        self._records: dict = {}
        #: In place, the names of the folder's recorded outputs (not their inputs' own names).
        self._outputs: dict[str, str] | None = None
        #: Set (to an empty set) to remember this run's outputs and never take one as an input:
        #: in place, from a streamed list of paths (a folder walked is listed before any output
        #: lands in it, but a stream may list an output just written).
        self.written: set[str] | None = None
        self._folder_verdicts: dict[str, bool] = {}
        #: seq -> (task, state root, size, mtime_ns); a stateless plan keeps the bare task.
        self._in_flight: dict[int, tuple | Task] = {}
        self._seq = 0
        #: The step writes no files and keeps no state (checksum): a file it accepts is simply
        #: a task, planned with nothing looked up, and the walk need not stat it.
        self.stateless = not layout.writes and not step.incremental

    def plan_folder(self, found_files: list[Found]) -> list[Task | FileResult]:
        """Plan one folder's files together, so two inputs bound for one output are caught first."""
        if self.stateless and not self.expect_settled:
            return self._plan_stateless(found_files)
        self._records_folder, self._records, self._outputs = None, {}, None
        planned = [self._plan(found) for found in found_files]
        counts = Counter(t for item in planned if isinstance(item, Task) for t in item.targets)
        sources = {item.source for item in planned if isinstance(item, Task)}
        if any(n > 1 for n in counts.values()) or any(
                t in sources and t != item.source
                for item in planned if isinstance(item, Task) for t in item.targets):
            planned = [self._refuse_collision(item, planned) for item in planned]
        return [self._claim(item) for item in planned]

    def _plan_stateless(self, found_files: list[Found]) -> list[Task | FileResult]:
        planned: list[Task | FileResult] = []
        accepts, in_flight = self.step.accepts_file, self._in_flight
        for found in found_files:
            if found.problem is not None or not accepts(os.path.basename(found.path)):
                planned.append(self._plan(found))  # says why not
                continue
            self._seq += 1
            task = in_flight[self._seq] = Task(self._seq, found.path)
            planned.append(task)
        return planned

    def task(self, seq: int) -> Task:
        """The task of a result still in flight (to retry it)."""
        planned = self._in_flight[seq]
        return planned if isinstance(planned, Task) else planned[0]

    def _plan(self, found: Found) -> Task | FileResult:
        if found.problem is not None:
            return (failed if found.fatal else skipped)(found.path, found.problem)
        name = os.path.basename(found.path)
        if not self.step.accepts_file(name):
            extension = os.path.splitext(name)[1].lower() or "no extension"
            return skipped(found.path, f"{self.step.accepts} ({extension})")
        if self.layout.in_place:
            owner = self._output_of(found, name)
            if owner is not None:
                return skipped(found.path, f"written by {self.step.name} (from {owner})")
        targets = tuple(self.layout.target_for(found, output) for output in self.step.output_names(name)
                        ) if self.layout.writes else ()
        if self.written is not None:
            self.written.update(os.path.abspath(t) for t in targets if t != found.path)
        shown = Task(0, found.path, targets).output
        existing = [_stat(target) for target in targets]
        if not self.layout.in_place:
            if any(info is not None and _same_inode(info, found.stat) for info in existing):
                return failed(found.path, "the output would overwrite its input", shown)
            if any(self._escapes(found, t) for t in targets):
                return failed(found.path, "the output folder leads outside the output root "
                                          "(a symbolic link): refused", shown)
        decision = self._check_state(found, targets, existing, shown)
        if decision is not None:
            return decision
        self._seq += 1
        expected = (found.stat.st_size, found.stat.st_mtime_ns) if self.expect_settled else None
        task = Task(self._seq, found.path, targets, expected)
        self._in_flight[self._seq] = (task, self.state.where(found), found.stat.st_size,
                                      found.stat.st_mtime_ns)
        return task

    def _output_of(self, found: Found, name: str) -> str | None:
        """In place, the input whose output this file is (`a.txt` for `a.gz` written by
        exec --ext .gz), by this run or, as recorded, by an earlier one: an output is never
        taken as an input."""
        if self.written is not None and os.path.abspath(found.path) in self.written:
            return "this run"
        self._load_records(found)
        if self._outputs is None:
            self._outputs = {}
            for input_name, record in self._records.items():
                if record.status != "ok" or not record.output:
                    continue
                outputs = json.loads(record.output) if record.output.startswith("[") else [record.output]
                text = os.fsdecode(input_name)
                for output in outputs:
                    if os.path.basename(output) != _text(text):
                        self._outputs[os.path.basename(output)] = text
        return self._outputs.get(_text(name))

    def _load_records(self, found: Found) -> None:
        """The records of `found`'s folder (loaded once per folder)."""
        folder = os.path.dirname(found.path)
        if folder == self._records_folder:
            return
        where = self.state.where(found)
        self._records_folder, self._records, self._outputs = folder, {}, None
        if where is not None:
            self._records = self.state.open(where).lookup_folder(folder or ".", self.step.name)

    def _escapes(self, found: Found, target: str) -> bool:
        """True if a symbolic link inside the output tree would carry `target` outside it."""
        folder = os.path.abspath(os.path.dirname(target))
        verdict = self._folder_verdicts.get(folder)
        if verdict is None:
            root = os.path.abspath(self.layout.root_for(found))
            existing = folder
            while not os.path.lexists(existing):
                existing = os.path.dirname(existing)
            if len(existing) < len(root):  # nothing below the root exists yet: nothing can redirect
                verdict = False
            else:
                real, real_root = os.path.realpath(existing), os.path.realpath(root)
                verdict = not (real == real_root or real.startswith(real_root + os.sep))
            if len(self._folder_verdicts) > 10_000:
                self._folder_verdicts.clear()
            self._folder_verdicts[folder] = verdict
        return verdict

    def _check_state(self, found: Found, targets, existing, shown) -> FileResult | None:
        if self.state.where(found) is None:
            return None
        self._load_records(found)
        record = self._records.get(os.fsencode(os.path.basename(found.path)))
        if self.retry_failed:
            if record is None or record.status not in ("failed", "quarantined"):
                return skipped(found.path, "not a failure of the last run (--retry-failed)", shown)
            return None
        if record is None or self.force:
            return None
        unchanged = (
            record.settings == self.settings_hash
            and (record.size, record.mtime_ns) == (found.stat.st_size, found.stat.st_mtime_ns)
        )
        if unchanged and record.status == "quarantined":
            return skipped(found.path, f"quarantined: {record.error} (use --retry-failed)", shown)
        if unchanged and record.status == "ok" and _outputs_current(found, targets, existing):
            return skipped(found.path, "up to date", shown)
        return None

    def _refuse_collision(self, item, planned):
        if not isinstance(item, Task):
            return item
        tasks = [other for other in planned if isinstance(other, Task) and other is not item]
        for target in item.targets:
            rivals = [other.source for other in tasks if target in other.targets]
            if rivals:
                names = ", ".join(os.path.basename(path) for path in rivals)
                return failed(item.source, f"{os.path.basename(item.source)} and {names} would both "
                                           f"be written to {target}", item.output, item.seq)
            if any(other.source == target for other in tasks):
                return failed(item.source, f"the output would overwrite the input {target}",
                              item.output, item.seq)
        return item

    def _claim(self, item):
        if not isinstance(item, Task):
            self._in_flight.pop(item.seq, None)
        elif self.claim_targets:  # only several arguments can meet in one output tree
            for target in item.targets:
                owner = self._claimed.setdefault(target, item.source)
                if owner != item.source:
                    self._in_flight.pop(item.seq, None)
                    return failed(item.source, f"{owner} is already written to {target}",
                                  item.output, item.seq)
        return item

    def record(self, result: FileResult) -> None:
        """Remember a finished file so the next run can skip or retry it."""
        planned = self._in_flight.pop(result.seq, None)
        if isinstance(planned, Task):  # stateless: nothing to keep
            return
        # A skip a worker decided (in place, already fits) is as good as done; one it never began is not.
        seen = result.status != "skipped" or result.fingerprint is not None
        if planned is None or not seen or self.dry_run:
            return
        _, where, size, mtime_ns = planned
        if self.state.opened(where) is None:
            return
        size, mtime_ns = result.fingerprint or (size, mtime_ns)
        status = "quarantined" if result.quarantined else "ok" if result.status == "skipped" else result.status.value
        output = json.dumps(result.output) if isinstance(result.output, list) else result.output
        self.state.record(where, os.path.abspath(result.input), Record(
            self.settings_hash, size, mtime_ns, status, output,
            result.bytes_out, result.output_mtime_ns, result.error))

    def record_batch(self, batch) -> None:
        """Remember the files of a ResultBatch (all ok), written to each state in one go."""
        in_flight = self._in_flight
        if not self.state.kept or self.dry_run:  # nothing is kept: only forget them
            for seq in batch.seqs:
                in_flight.pop(seq, None)
            return
        rows: dict = {}
        for seq, size, mtime_ns, written, output_mtime in zip(
                batch.seqs, batch.sizes, batch.mtimes, batch.written, batch.output_mtimes):
            planned = in_flight.pop(seq, None)
            if planned is None or isinstance(planned, Task) or planned[1] is None:
                continue
            task, output = planned[0], planned[0].output
            rows.setdefault(planned[1], []).append((
                os.path.abspath(task.source), Record(
                    self.settings_hash, size, mtime_ns, "ok",
                    json.dumps(output) if isinstance(output, list) else output,
                    None if written == NONE else written, None if output_mtime == NONE else output_mtime,
                    None)))
        self.state.record_many(rows)

    def close(self) -> list[str]:
        """Save and release everything; return warnings about state that could not be saved."""
        return self.state.close()


def _text(name: str) -> str:
    """A name as the state stores texts (bytes that are not UTF-8 escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _same_inode(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _outputs_current(found: Found, targets, existing) -> bool:
    """Every output exists and is no older than its input."""
    for target, info in zip(targets, existing):
        if target == found.path:
            continue  # in place: the record's fingerprint already describes the written file
        if info is None or info.st_mtime_ns < found.stat.st_mtime_ns:
            return False
    return True
