"""The checksum step: a manifest sha256sum -c can check, or the check of one."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import Step, StepError, hookimpl
from batchproc_plugins.manifest import check_line, manifest_line, read_manifest

CHECK = "Checksum options"
MISMATCH = "checksum mismatch"
UNLISTED = "not listed in the manifest"
_BUFFER = 1 << 20


class Checksum(Step):
    """Print a checksum manifest of files, or check files against one.

    The manifest goes to stdout in exactly the format sha256sum (sha1sum, md5sum, b2sum)
    writes, odd file names included, so `sha256sum -c` can check it later. No files are
    written. --check MANIFEST (-c, as sha256sum -c) checks the files it lists instead (relative names from the
    current folder, as sha256sum -c does) and prints NAME: OK or NAME: FAILED; any mismatch
    makes the exit code 1.

    \b
    Example: batchproc checksum ./photos > photos.sha256 && sha256sum -c photos.sha256
    """

    name = "checksum"
    summary = "Print a sha256sum-compatible manifest, or --check one."
    output_suffix = None
    max_chunk = 256  # hashing a small file takes microseconds: send many at once
    incremental = False  # a manifest reads every file as it is now (bit rot keeps size and time)

    def __init__(
        self,
        algorithm: Annotated[Literal["sha256", "sha1", "md5", "blake2b"], typer.Option(
            "--algorithm", "-a", help="Digest algorithm (blake2b: BLAKE2b-512, as b2sum).",
            rich_help_panel=CHECK)] = "sha256",
        check: Annotated[Optional[str], typer.Option(
            "--check", "-c", metavar="MANIFEST", help="Check the files this manifest lists.",
            rich_help_panel=CHECK)] = None,
    ) -> None:
        # Workers rebuild the step elsewhere: give them the manifest wherever they start.
        check = os.path.abspath(check) if check else None
        super().__init__(algorithm=algorithm, check=check)
        self.algorithm = algorithm
        self.check = check
        self._new = getattr(hashlib, algorithm)
        self._local = threading.local()  # one reused read buffer per thread
        self.expected = read_manifest(check, algorithm) if check else None
        # The engine hands `process` its path as a Path: look names up the same way.
        self._by_path = {os.fspath(Path(name)): digest for name, digest in self.expected.items()} \
            if self.expected else None

    def default_paths(self) -> list[str] | None:
        return list(self.expected) if self.expected is not None else None

    def process(self, source: Path, target: None) -> dict:
        digest = self._digest(source)
        if self._by_path is not None:
            expected = self._by_path.get(os.fspath(source))
            if expected is None:
                raise StepError(UNLISTED)
            if digest != expected:
                raise StepError(MISMATCH)
        return {"digest": digest}

    def _digest(self, source: Path) -> str:
        # A reused 1 MiB buffer and bare os calls: for small files the per-file overhead is
        # most of the cost (hashlib.file_digest allocates a fresh buffer each time).
        view = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = memoryview(bytearray(_BUFFER))
        digest = self._new()
        fd = os.open(source, os.O_RDONLY)
        try:
            while count := os.readv(fd, [view]):
                digest.update(view[:count])
        finally:
            os.close(fd)
        return digest.hexdigest()

    def stdout_line(self, result) -> str | None:
        if self.check is None:
            return manifest_line(result.data["digest"], result.input) if result.status == "ok" else None
        if result.status == "ok":
            return check_line(result.input, "OK")
        if result.status == "failed" and result.error != UNLISTED:
            return check_line(result.input, "FAILED" if result.error == MISMATCH else "FAILED open or read")
        return None


@hookimpl
def register_steps(register):
    register(Checksum)
