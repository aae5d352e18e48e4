"""What earlier runs did with each input: incremental skips and resume (one SQLite file per
output folder, in the state folder: see batchproc.state_dir)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import NamedTuple


SCHEMA_VERSION = 3
#: What the file is about: the folder it keeps the state of ("folder"), and "outputs" or "inputs" ("kind").
_ABOUT = "CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT)"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    folder BLOB NOT NULL,
    name BLOB NOT NULL,
    step TEXT NOT NULL,
    settings TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    status TEXT NOT NULL,
    output TEXT,
    output_size INTEGER,
    output_mtime_ns INTEGER,
    error TEXT,
    PRIMARY KEY (folder, name, step)
)
"""


class Record(NamedTuple):
    """What the last run that finished this input recorded about it."""

    settings: str
    size: int
    mtime_ns: int
    status: str
    output: str | None
    output_size: int | None
    output_mtime_ns: int | None
    error: str | None


class StateStore:
    """One SQLite file: a row per input and step, for the folder it is about."""

    COMMIT_EVERY = 1.0  # seconds: a crash loses at most this much bookkeeping, never outputs

    def __init__(self, path: str, folder: str, *, kind: str = "outputs", create: bool = True,
                 dot_file_locks: bool = False) -> None:
        self.path = path
        #: The folder whose state this is (its real path), and whether it holds outputs or inputs.
        self.about = {"folder": os.path.realpath(folder), "kind": kind}
        self._connection = None
        self._create = create
        #: On a network file system SQLite's POSIX locks are unreliable: lock with dot-files.
        self._vfs = "&vfs=unix-dotfile" if dot_file_locks else ""
        self._last_commit = time.monotonic()
        #: Why state stopped being saved (a full disk), if it did; the run itself goes on.
        self.failure: str | None = None

    def _connect(self):
        if self._connection is None:
            import sqlite3
            import urllib.parse

            uri = f"file:{urllib.parse.quote(os.path.abspath(self.path))}"
            if not self._create:  # a dry run reads what is there and writes nothing
                if not os.path.exists(self.path):
                    return None
                self._connection = sqlite3.connect(f"{uri}?mode=ro{self._vfs}", uri=True,
                                                   check_same_thread=False)
                return self._connection
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            # One connection, shared by the walking thread (reads) and the result loop (writes):
            # the plain rollback journal is enough, and a read-only open then writes nothing.
            self._connection = sqlite3.connect(f"{uri}?mode=rwc{self._vfs}", uri=True, timeout=30,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA synchronous=NORMAL")
            version = self._connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 2:  # the same rows, from before state had its own folder
                self._connection.executescript(f"{_ABOUT}; PRAGMA user_version = {SCHEMA_VERSION};")
            elif version != SCHEMA_VERSION:  # state from another version: start afresh (it is a cache)
                self._connection.executescript(
                    f"DROP TABLE IF EXISTS files; {_SCHEMA}; {_ABOUT}; "
                    f"PRAGMA user_version = {SCHEMA_VERSION};")
            self._connection.executemany("INSERT OR REPLACE INTO about VALUES (?, ?)", self.about.items())
        return self._connection

    def lookup_folder(self, folder: str, step: str) -> dict[bytes, Record]:
        """Every record of one input folder, by file name: one query for a folder's files."""
        connection = self._connect()
        if connection is None:
            return {}
        rows = connection.execute(
            "SELECT name, settings, size, mtime_ns, status, output, output_size, output_mtime_ns,"
            " error FROM files WHERE folder = ? AND step = ?",
            (os.fsencode(os.path.abspath(folder)), step),
        )
        return {row[0]: Record(*row[1:]) for row in rows}

    def lookup_tree(self, folder: str, step: str) -> list[tuple[str, Record]]:
        """Every record of the inputs in `folder` and below, by input path (a folder deleted
        or moved away while watching)."""
        connection = self._connect()
        if connection is None:
            return []
        key = os.fsencode(os.path.abspath(folder))
        rows = connection.execute(
            "SELECT folder, name, settings, size, mtime_ns, status, output, output_size,"
            " output_mtime_ns, error FROM files WHERE step = ? AND (folder = ? OR"
            " (folder >= ? AND folder < ?))", (step, key, key + b"/", key + b"0"))
        return [(os.fsdecode(os.path.join(row[0], row[1])), Record(*row[2:])) for row in rows]

    def forget(self, input_path: str, step: str) -> None:
        """Drop the record of an input that is gone."""
        if self.failure is not None:
            return
        try:
            folder, name = os.path.split(os.fsencode(os.path.abspath(input_path)))
            self._connect().execute("DELETE FROM files WHERE folder = ? AND name = ? AND step = ?",
                                    (folder, name, step))
            if time.monotonic() - self._last_commit > self.COMMIT_EVERY:
                self.commit()
        except (_sqlite_error(), OSError) as error:
            self._fail(error)

    def record(self, input_path: str, step: str, record: Record) -> None:
        if self.failure is not None:
            return
        try:
            connection = self._connect()
            # File names are bytes to the kernel: keys stay bytes, texts keep odd bytes escaped.
            folder, name = os.path.split(os.fsencode(os.path.abspath(input_path)))
            connection.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (folder, name, step, *(_text(v) if isinstance(v, str) else v for v in record)),
            )
            if time.monotonic() - self._last_commit > self.COMMIT_EVERY:
                self.commit()
        except (_sqlite_error(), OSError) as error:
            self._fail(error)

    def commit(self) -> None:
        if self._connection is not None and self.failure is None:
            try:
                self._connection.commit()
            except (_sqlite_error(), OSError) as error:
                self._fail(error)
            self._last_commit = time.monotonic()

    def _fail(self, error: Exception) -> None:
        self.failure = (f"could not save the run's state in {self.path} ({error}): the next run "
                        "will redo the files this one finished")

    def close(self) -> None:
        if self._connection is not None:
            self.commit()
            self._connection.close()
            self._connection = None


def _sqlite_error():
    import sqlite3

    return sqlite3.Error


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


class NoState:
    """Where no state can be kept: nothing is known, nothing is saved (every file is redone)."""

    failure = None

    def lookup_folder(self, folder: str, step: str) -> dict[bytes, Record]:
        return {}

    def lookup_tree(self, folder: str, step: str) -> list[tuple[str, Record]]:
        return []

    def record(self, input_path: str, step: str, record: Record) -> None:
        pass

    def forget(self, input_path: str, step: str) -> None:
        pass

    def commit(self) -> None:
        pass

    def close(self) -> None:
        pass


def describe(path: str) -> dict | None:
    """What a state file holds, for `batchproc state`: its folder, kind and counts per step."""
    import sqlite3
    import urllib.parse

    try:
        uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            about = dict(connection.execute("SELECT key, value FROM about"))
            counts = connection.execute(
                "SELECT step, status, COUNT(*) FROM files GROUP BY step, status ORDER BY step, status"
            ).fetchall()
    except sqlite3.Error:
        return None
    steps: dict[str, dict[str, int]] = {}
    for step, status, count in counts:
        steps.setdefault(step, {})[status] = count
    return {"folder": about.get("folder", "?"), "kind": about.get("kind", "outputs"), "steps": steps}
