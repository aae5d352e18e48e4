"""Where the list of inputs comes from: arguments, standard input (`-`), or --files-from."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO, Iterator

from batchproc.errors import UsageError

STDIN = "-"


class PathSource:
    """The paths to process, in order: arguments first, then any streamed list, read lazily so
    work starts while `find` is still printing."""

    def __init__(self, args: list[str], *, null: bool = False, files_from: str | None = None,
                 listed: list[str] | None = None, stdin: BinaryIO | None = None) -> None:
        """`listed`: paths a step itself names (checksum --verify): like a streamed list, a
        missing one is that file's failure, not a usage error."""
        self.listed = list(listed or ())
        if args.count(STDIN) > 1:
            raise UsageError("- (read paths from stdin) can be given only once")
        self.args = [arg for arg in args if arg != STDIN]
        self.separator = b"\0" if null else b"\n"
        self._streams: list[tuple[str, BinaryIO]] = []
        if STDIN in args:
            self._streams.append(("stdin", stdin or sys.stdin.buffer))
        if files_from is not None:
            try:
                self._streams.append((files_from, open(files_from, "rb")))
            except OSError as error:
                raise UsageError(f"cannot read --files-from {files_from}: {error.strerror}") from None
        for arg in self.args:
            if not os.path.lexists(arg):
                raise UsageError(f"no such file or folder: {arg}")

    @property
    def streamed(self) -> bool:
        """True when paths also come from a stream, so not all are known up front."""
        return bool(self._streams or self.listed)

    def __iter__(self) -> Iterator[str]:
        yield from self.args
        yield from self.listed
        for _, stream in self._streams:
            yield from read_paths(stream, self.separator)


def read_paths(stream: BinaryIO, separator: bytes) -> Iterator[str]:
    """Paths from a stream, one per line (or NUL-terminated), as bytes decoded like argv is."""
    pending = b""
    while True:
        block = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not block:
            break
        pending += block
        *complete, pending = pending.split(separator)
        for raw in complete:
            if separator == b"\n":
                raw = raw.rstrip(b"\r")
            if raw:
                yield os.fsdecode(raw)
    if pending.strip(b"\r"):
        yield os.fsdecode(pending.rstrip(b"\r") if separator == b"\n" else pending)
