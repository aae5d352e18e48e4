"""The interface a processing step implements: one input file in, at most one output file out."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar


class Step:
    """Base class for a step. Subclass it, give it a name, and implement `process`.

    The keyword arguments of a subclass's `__init__` (with type annotations and defaults)
    become the command's options, and are what workers receive to rebuild the step: keep
    them plain values (str, int, float, bool, None).
    """

    #: Sub-command name, e.g. "resize".
    name: ClassVar[str] = ""
    #: One line shown by `batchproc plugins` and at the top of `--help`.
    summary: ClassVar[str] = ""
    #: Lower-case extensions the step accepts, e.g. {".jpg", ".png"}; empty accepts every file.
    extensions: ClassVar[frozenset[str]] = frozenset()
    #: How skip reasons name what the step accepts: "not an image".
    accepts: ClassVar[str] = "not accepted by this step"
    #: Default output folder is the input folder's name plus this ("imgs" -> "imgs_resized");
    #: None means the step writes no files (like checksum).
    output_suffix: ClassVar[str | None] = "_out"
    #: Bump when the step's output changes for the same settings: incremental runs redo old outputs.
    version: ClassVar[str] = "1"
    #: Most files worth sending to a worker in one chunk: small for heavy steps, large for light ones.
    max_chunk: ClassVar[int] = 8
    #: Skip files done before with the same settings. A step that writes no files keeps that
    #: record by its input folder; checksum turns it off (a manifest is of the files as they are now).
    incremental: ClassVar[bool] = True
    #: Modules worth importing once before workers start, beside the step's own (the server
    #: workers start from imports them, so every worker starts with them loaded).
    preload_modules: ClassVar[tuple[str, ...]] = ()
    #: True when `process` stops its own work once the run's --timeout has passed and fails the
    #: file itself (exec kills its command): the parent then allows a moment more before it
    #: kills the worker, as a backstop.
    stops_at_timeout: ClassVar[bool] = False

    def __init__(self, **settings: Any) -> None:
        self._settings = settings

    @property
    def settings(self) -> dict[str, Any]:
        """The options this step was built with: enough to rebuild it in a worker."""
        return dict(self._settings)

    def settings_hash(self) -> str:
        """A short fingerprint of the step, its version and settings, for incremental runs."""
        text = json.dumps([self.name, self.version, self.settings], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def accepts_file(self, name: str) -> bool:
        """True if the step wants a file with this name."""
        if not self.extensions:
            return True
        return os.path.splitext(name)[1].lower() in self.extensions

    def output_name(self, name: str) -> str:
        """The output file name for an input file name (change it to change the extension)."""
        return name

    def output_names(self, name: str) -> list[str]:
        """All output names for an input name; override to write several outputs per input."""
        return [self.output_name(name)]

    def process(self, source: Path, target: Path | list[Path] | None) -> dict[str, Any] | None:
        """Process one file. Write the result to `target`: a temporary path in the output folder
        that batchproc renames into place once this returns (a list of them when
        `output_names` gives several; None when the step writes no files). Return extra fields
        for the result record, or None. Raise StepError for an expected failure: its message
        becomes the file's error, with no traceback."""
        raise NotImplementedError

    def verify(self, outputs: list[Path], data: dict[str, Any], *, thorough: bool) -> None:
        """Check that each output (still at its temporary path) reads back, before batchproc
        renames it into place; raise StepError saying what is wrong. `data` is what `process`
        returned. `thorough` asks for a full check (--verify full, an output that replaces its
        input, a byte copy): otherwise the cheapest check that proves the output good is enough.
        The default checks nothing beyond the output existing."""

    def after_publish(self, source: Path, outputs: list[Path]) -> None:
        """Called once this file's outputs are renamed into place (compress --no-keep removes
        the input here: never before its output exists). An error fails the file."""

    def check_runnable(self) -> None:
        """Raise UsageError when this machine cannot run the step (a program it needs is
        missing). Called in the parent before a local run makes any folder, and once in each
        worker, so that the workers of a Dask cluster are checked where the work runs."""

    def prepare_worker(self, *, timeout: float | None) -> None:
        """Called once in each worker after the step is built and checked, with the run's
        limits: `timeout` is --timeout, the seconds one file may take (None: no limit)."""

    def hint(self) -> str | None:
        """A tip shown once, on a terminal, before the first run of this step (resize: how to
        get the faster engine), or None."""
        return None

    def default_paths(self) -> list[str] | None:
        """Paths to process when none are given (checksum --verify reads them from its manifest)."""
        return None

    def stdout_line(self, result) -> str | None:
        """A line this step prints on stdout for a finished file (checksum's manifest), or None.
        `result` is a read-only batchproc.results.FinishedFile: status, input, output, error,
        data (what `process` returned), bytes_in, bytes_out, ms."""
        return None

    def stderr_lines(self, result) -> list[str]:
        """Lines to show on stderr for a finished file (exec --show-stderr: what its command
        said), or none. `result` is as for `stdout_line`."""
        return []

    def plan_line(self, result) -> str | None:
        """The line --dry-run prints for a file it would process (exec: the command it would
        run), or None for the usual `process IN -> OUT`. `result` is as for `stdout_line`."""
        return None
