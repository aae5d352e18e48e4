"""The run options: what the user asked of a run beyond the step, typed, from the CLI edge on."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from batchproc.errors import UsageError

#: Names run options own: a plugin's option may not take one, whether it exists yet or not.
RESERVED_OPTION_NAMES = frozenset({
    "state", "verify", "max_memory", "watch", "settle", "poll", "mirror_deletes", "report",
})
#: Names of batchproc's own commands: no step may take one.
BUILT_IN_COMMANDS = frozenset({"run", "plugins", "state", "exec", "report"})
VERIFY_MODES = ("auto", "full")
#: Seconds a watched file must stay unchanged (size and mtime) before it is taken.
DEFAULT_SETTLE = 2.0
#: Fields the caller fills in that are no flag (and leave their names free for plugins' options).
CONTEXT_FIELDS = frozenset({"command", "run_id"})
#: Flags spelled unlike their parameter name.
_FLAG_SPELLINGS = {"json_lines": "json"}


@dataclass(frozen=True)
class RunOptions:
    """Every run option, by its parameter name (the command-line flag without dashes, with _)."""

    #: Files and folders to process; "-" reads a list from stdin.
    paths: tuple[str, ...] = ()
    #: Streamed path lists end with NUL, not newline.
    null: bool = False
    files_from: str | None = None
    out: str | None = None
    in_place: bool = False
    #: Worker processes; None: the CPUs available.
    jobs: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    hidden: bool = False
    follow_symlinks: bool = False
    force: bool = False
    retry_failed: bool = False
    log: str | None = None
    #: Show a progress bar; None: when stderr is a terminal.
    progress: bool | None = None
    timeout: float | None = None
    #: fork, spawn or forkserver; None: forkserver where it exists, else spawn.
    start_method: str | None = None
    #: local or dask; None: dask when a scheduler is named, else local.
    executor: str | None = None
    scheduler: str | None = None
    retries: int = 0
    max_failures: str | None = None
    dry_run: bool = False
    quiet: bool = False
    json_lines: bool = False
    print0: bool = False
    #: Where incremental state lives; None: the user's state directory.
    state: str | None = None
    #: How outputs are checked before they are published: auto or full.
    verify: str = "auto"
    #: Memory one worker may use, as given ("2G", "1500M"); None: derived from the machine.
    max_memory: str | None = None
    #: Keep running: process files as they arrive, once settled (batchproc.watch).
    watch: bool = False
    #: Seconds a file's size and mtime must stay unchanged before a watch takes it; None: 2.
    settle: float | None = None
    #: Watch by looking at the tree every this many seconds (network file systems) instead of inotify.
    poll: float | None = None
    #: A watch removes the outputs of inputs that are deleted.
    mirror_deletes: bool = False
    #: Write a page about the run here (batchproc.report).
    report: str | None = None
    #: Folders of .py plugins named with --plugin-dir (not a step command's own flag).
    plugin_dirs: tuple[str, ...] = field(default=(), compare=False)
    #: The command line as typed, for the log's run header and the report (not a flag).
    command: tuple[str, ...] = field(default=(), compare=False)
    #: The run's id when the caller chose it (the jobs of a job file share one; not a flag).
    run_id: str | None = field(default=None, compare=False)

    @classmethod
    def from_values(cls, values: dict, *, what: str = "run options") -> "RunOptions":
        """Build from values by parameter name; lists become tuples, unknown names are refused."""
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        unknown = set(values) - set(defaults)
        if unknown:
            raise UsageError(f"{what}: unknown option(s) {', '.join(sorted(unknown))}")
        # None means "not given" (typer's value for an absent list option, say).
        cleaned = {key: tuple(value) if isinstance(value, list) else value
                   for key, value in values.items() if value is not None or defaults[key] is None}
        options = cls(**cleaned)
        options.check()
        return options

    def replace(self, **changes) -> "RunOptions":
        return dataclasses.replace(self, **changes)

    def check(self) -> None:
        """Refuse combinations that cannot be honoured, as usage errors."""
        if self.json_lines and self.print0:
            raise UsageError("--json and --print0 cannot be used together")
        if self.out is not None and self.in_place:
            raise UsageError("--out and --in-place cannot be used together")
        if self.verify not in VERIFY_MODES:
            raise UsageError(f"--verify must be one of {', '.join(VERIFY_MODES)}, not {self.verify!r}")
        if self.start_method is not None and self.start_method not in ("fork", "spawn", "forkserver"):
            raise UsageError(f"--start-method must be fork, spawn or forkserver, not {self.start_method!r}")
        if self.report is not None and self.dry_run:
            raise UsageError("--dry-run writes nothing: it makes no --report either")
        self._check_watch()

    def _check_watch(self) -> None:
        if not self.watch:
            for name, value in (("settle", self.settle), ("poll", self.poll),
                                ("mirror-deletes", self.mirror_deletes)):
                if value not in (None, False):
                    raise UsageError(f"--{name} is for --watch")
            return
        if "-" in self.paths or self.files_from is not None:
            raise UsageError("--watch watches folders and files named as arguments, not a list "
                             "read from stdin or --files-from")
        if self.dry_run:
            raise UsageError("--watch and --dry-run cannot be used together")

    @property
    def settle_seconds(self) -> float:
        """How long a watched file must stay unchanged before it is taken."""
        return DEFAULT_SETTLE if self.settle is None else self.settle

    @property
    def where(self) -> tuple[str, str | None]:
        """The executor and scheduler: the option, else the environment; a scheduler means Dask."""
        scheduler = self.scheduler or os.environ.get("BATCHPROC_SCHEDULER") or None
        executor = self.executor or os.environ.get("BATCHPROC_EXECUTOR") or ("dask" if scheduler else "local")
        if scheduler and executor != "dask":
            raise UsageError(f"--scheduler {scheduler} needs --executor dask (the executor is {executor})")
        if executor not in ("local", "dask"):
            raise UsageError(f"unknown executor {executor!r}: use local or dask")
        return executor, scheduler


def taken_option_names() -> frozenset[str]:
    """Every name and long-flag spelling a run option owns or reserves (max_memory, max-memory)."""
    names = ({f.name for f in dataclasses.fields(RunOptions)} - CONTEXT_FIELDS) | RESERVED_OPTION_NAMES
    names |= set(_FLAG_SPELLINGS.values())
    return frozenset(names | {name.replace("_", "-") for name in names})
