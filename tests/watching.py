"""A batchproc --watch running as a real process, with its stderr and stdout read line by line
as they come (tests wait for lines, never for fixed times where a line can tell)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class Watching:
    """`batchproc ARGS` started in `cwd`; waits until it says what it watches."""

    def __init__(self, *args, cwd: Path, env: dict | None = None, ready: str | None = "watching",
                 prefix: tuple[str, ...] = ()) -> None:
        command = [*prefix, sys.executable, "-m", "batchproc", *map(os.fsdecode, args)]
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        env={**os.environ, **(env or {})})
        self.errors: list[str] = []  # every stderr line so far
        self.records: list[dict] = []  # every --json record so far
        self._lines: queue.Queue = queue.Queue()
        self._records: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stderr, self._lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stdout, self._records), daemon=True).start()
        if ready is not None:
            self.line(ready)

    @staticmethod
    def _read(stream, into: queue.Queue) -> None:
        for raw in iter(stream.readline, b""):
            into.put(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
        into.put(None)

    def line(self, text: str, timeout: float = 30) -> str:
        """The next stderr line containing `text` (lines before it are kept in `errors`)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout} s; stderr so far:\n"
                                     + "\n".join(self.errors)) from None
            if line is None:
                self._lines.put(None)
                raise AssertionError(f"batchproc ended (exit {self.process.wait()}) before a line "
                                     f"with {text!r}; stderr:\n" + "\n".join(self.errors))
            self.errors.append(line)
            if text in line:
                return line

    def lines(self, text: str, count: int, timeout: float = 30) -> list[str]:
        return [self.line(text, timeout) for _ in range(count)]

    def record(self, timeout: float = 30) -> dict:
        """The next --json record on stdout."""
        try:
            text = self._records.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no record within {timeout} s; stderr so far:\n" + "\n".join(self.errors)) from None
        assert text is not None, "batchproc ended"
        self.records.append(json.loads(text))
        return self.records[-1]

    def quiet_for(self, seconds: float) -> list[str]:
        """The stderr lines that came during `seconds` (nothing expected, usually)."""
        time.sleep(seconds)
        said = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return said
            if line is None:
                self._lines.put(None)
                return said
            self.errors.append(line)
            said.append(line)

    def stop(self, *signals: int, timeout: float = 60) -> int:
        """Send each signal (SIGINT by default) and return the exit code; the rest of stderr
        lands in `errors`."""
        for signum in signals or (signal.SIGINT,):
            self.process.send_signal(signum)
            time.sleep(0.05)
        code = self.process.wait(timeout)
        while True:
            try:
                line = self._lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            self.errors.append(line)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def age(path: Path, seconds: float = 60) -> Path:
    """Make a file look as if it was last written `seconds` ago."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path
