"""The incremental state one run reads and writes: a store per output folder, locked against
other runs when it is first opened, or, for a step that writes no files, per input folder."""

from __future__ import annotations

import os
import threading

from batchproc.outputs import OutputLayout
from batchproc.run_lock import RunLock
from batchproc.state import Record, StateStore
from batchproc.state_dir import StateLocations
from batchproc.walk import Found

#: Where an input's record lives: (folder, True) for an output folder's state, (folder, False)
#: for an input folder's (a step that writes no files); None when no state is kept for it.
Where = tuple[str, bool]


class RunState:
    """The stores a run has opened, the locks it holds, and one lock of its own around both
    (the walking thread plans while the main thread records)."""

    def __init__(self, step_name: str, incremental: bool, layout: OutputLayout,
                 locations: StateLocations, *, dry_run: bool = False) -> None:
        self.step_name = step_name
        self.incremental = incremental
        self.layout = layout
        self.locations = locations
        self.dry_run = dry_run
        self.guard = threading.Lock()
        self._stores: dict = {}  # output root, or ("inputs", folder) -> StateStore
        self._locks: dict[str, RunLock] = {}

    @property
    def kept(self) -> bool:
        """Whether any state has been opened (a stateless run records nothing)."""
        return bool(self._stores)

    def where(self, found: Found) -> Where | None:
        """The folder whose state holds this input's record, and whether it is an output folder."""
        root = self.layout.root_for(found)
        if root is not None:
            return root, True
        if not self.incremental:
            return None
        return (found.root or os.path.dirname(found.path) or "."), False

    def open_root(self, root: str) -> StateStore:
        """The state of one output root, locked against other runs on first use."""
        with self.guard:
            store = self._stores.get(root)
            if store is None:
                if not self.dry_run:
                    lock = RunLock(root, fallback=self.locations.lock_file(root))
                    lock.acquire()
                    self._locks[root] = lock
                store = self._stores[root] = self.locations.store(root)
            return store

    def open(self, where: Where) -> StateStore:
        """The store at `where`, opened (and its output folder locked) if it is not yet."""
        if where[1]:
            return self.open_root(where[0])
        with self.guard:  # a step that writes no files: kept by input folder, never locked
            key = ("inputs", where[0])
            store = self._stores.get(key)
            if store is None:
                store = self._stores[key] = self.locations.store(where[0], kind="inputs")
            return store

    def opened(self, where: Where | None) -> StateStore | None:
        """The store at `where` if this run has opened it, else None."""
        if where is None:
            return None
        return self._stores.get(where[0] if where[1] else ("inputs", where[0]))

    def store_for(self, found: Found) -> StateStore | None:
        """The state that holds (or would hold) this input's record, if any is kept."""
        where = self.where(found)
        return None if where is None else self.open(where)

    def recorded(self, found: Found) -> Record | None:
        """What the state says about this input (None: nothing, or no state kept)."""
        store = self.store_for(found)
        if store is None:
            return None
        folder, name = os.path.split(found.path)
        with self.guard:
            return store.lookup_folder(folder or ".", self.step_name).get(os.fsencode(name))

    def recorded_below(self, found: Found) -> list[tuple[str, Record]]:
        """The records (by absolute input path) of every input in the folder of `found`, and below."""
        store = self.store_for(found)
        if store is None:
            return []
        with self.guard:
            return store.lookup_tree(os.path.dirname(found.path) or ".", self.step_name)

    def forget(self, path: str, found: Found) -> None:
        """Drop the record of the input at `path` (deleted while watched); `found` names its tree."""
        store = self.store_for(found)
        if store is not None and not self.dry_run:
            with self.guard:
                store.forget(os.path.abspath(path), self.step_name)

    def record(self, where: Where | None, path: str, record: Record) -> None:
        """Keep the record of the input at `path` in the store at `where`, if it is open."""
        store = self.opened(where)
        if store is not None:
            with self.guard:
                store.record(path, self.step_name, record)

    def record_many(self, rows: dict[Where, list[tuple[str, Record]]]) -> None:
        """Keep many records in one go, each store's in one write."""
        with self.guard:
            for where, records in rows.items():
                store = self.opened(where)
                if store is not None:
                    store.record_many(self.step_name, records)

    def lost_roots(self) -> list[str]:
        """Output folders locked by this run that are gone (removed, or replaced by another)."""
        with self.guard:
            return [root for root, lock in self._locks.items() if not lock.still_held()]

    def save(self) -> None:
        """Commit what has been recorded (a watch that goes idle keeps nothing unsaved)."""
        with self.guard:
            for store in self._stores.values():
                store.commit()

    def close(self) -> list[str]:
        """Save and release everything; return warnings about state that could not be saved."""
        with self.guard:
            for store in self._stores.values():
                store.close()
            for lock in self._locks.values():
                lock.release()
            problems = [self.locations.problem] if self.locations.problem and self._stores else []
            return problems + [store.failure for store in self._stores.values() if store.failure]
