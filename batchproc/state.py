"""What earlier runs did, kept beside the outputs: incremental skips, resume, and the run lock."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import urllib.parse
from typing import NamedTuple

from batchproc.errors import BatchprocError, RunLockedError
from batchproc.walk import STATE_FOLDER

SCHEMA_VERSION = 2
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
    """An SQLite file in `<output root>/.batchproc/`, one row per input and step."""

    COMMIT_EVERY = 1.0  # seconds: a crash loses at most this much bookkeeping, never outputs

    def __init__(self, root: str, *, create: bool = True) -> None:
        self.folder = os.path.join(root, STATE_FOLDER)
        self.path = os.path.join(self.folder, "state.sqlite")
        self._connection: sqlite3.Connection | None = None
        self._create = create
        self._last_commit = time.monotonic()
        #: Why state stopped being saved (a full disk), if it did; the run itself goes on.
        self.failure: str | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._connection is None:
            if not self._create:  # a dry run reads what is there and writes nothing
                if not os.path.exists(self.path):
                    return None
                uri = f"file:{urllib.parse.quote(os.path.abspath(self.path))}?mode=ro"
                self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
                return self._connection
            os.makedirs(self.folder, exist_ok=True)
            # One connection, shared by the walking thread (reads) and the result loop (writes):
            # the plain rollback journal is enough, and a read-only open then writes nothing.
            self._connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._connection.execute("PRAGMA synchronous=NORMAL")
            version = self._connection.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:  # state from another version: start afresh (it is a cache)
                self._connection.executescript(
                    f"DROP TABLE IF EXISTS files; {_SCHEMA}; PRAGMA user_version = {SCHEMA_VERSION};")
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
        except (sqlite3.Error, OSError) as error:
            self._fail(error)

    def commit(self) -> None:
        if self._connection is not None and self.failure is None:
            try:
                self._connection.commit()
            except (sqlite3.Error, OSError) as error:
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


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


class RunLock:
    """An exclusive lock on an output root; the kernel drops it if its holder dies."""

    def __init__(self, root: str) -> None:
        self.path = os.path.join(root, STATE_FOLDER, "lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        root = os.path.dirname(os.path.dirname(self.path))
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise BatchprocError(f"cannot write to {root}: {error.strerror or error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunLockedError(
                f"another batchproc run (pid {holder}) is writing to {os.path.dirname(os.path.dirname(self.path))}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
