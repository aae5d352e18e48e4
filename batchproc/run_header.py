"""Who ran what, where and how: the record that opens each run in a --log file and heads its
report. File records carry the run's id; filters such as `jq 'select(.status=="failed")'`
skip the header and the end record, which have no status."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
import importlib.util
from pathlib import Path
from typing import Any

from batchproc import __version__

#: The `record` field of a run's first record, and of its last.
HEADER, END = "run", "end"


@dataclass(frozen=True)
class RunHeader:
    """The facts of one run (of one job, in a job file: its jobs share the run id)."""

    #: Unique, and sorts by time: 20261126-021500-3fa2c1.
    run: str
    #: When the run began, ISO 8601 with the UTC offset.
    started: str
    #: The command line as typed, the program name first.
    command: tuple[str, ...]
    #: The folder relative paths in the records are relative to.
    cwd: str
    step: str
    #: The step's settings (its options) as workers get them.
    settings: dict[str, Any]
    #: The image libraries present, for image steps (each file's record says which it used).
    engine: str | None
    #: local, or dask with its scheduler.
    executor: str
    jobs: int
    version: str = __version__
    #: The job's name, in a job file.
    job: str | None = None
    #: True for image steps: their report has a contact sheet.
    images: bool = False

    @classmethod
    def of(cls, step, options, jobs: int, *, job: str | None = None) -> "RunHeader":
        images = is_image_step(step)
        executor, scheduler = options.where
        return cls(run=options.run_id or new_run_id(), started=now(), command=tuple(options.command),
                   cwd=os.getcwd(), step=step.name, settings=dict(step.settings),
                   engine=image_engines() if images else None,
                   executor=f"{executor} {scheduler}" if scheduler else executor, jobs=jobs, job=job,
                   images=images)

    def to_record(self) -> dict[str, Any]:
        return {"record": HEADER, **asdict(self), "command": list(self.command)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "RunHeader":
        """The header a log's run record holds (fields it lacks get neutral values)."""
        values = {**_MISSING, **{key: value for key, value in record.items() if key in _FIELDS}}
        return cls(**{**values, "command": tuple(values["command"])})


_FIELDS = frozenset(RunHeader.__dataclass_fields__)
_MISSING = {"run": "", "started": "", "command": (), "cwd": "", "step": "?", "settings": {},
            "engine": None, "executor": "local", "jobs": 0, "version": "?"}


def end_record(header: dict[str, Any], summary, elapsed: float) -> dict[str, Any]:
    """The record that closes a run in the log: how long it took, why it stopped, its counts."""
    job = {"job": header["job"]} if header.get("job") is not None else {}
    return {"record": END, "run": header["run"], **job, "ended": now(), "elapsed": round(elapsed, 3),
            "stopped": summary.stopped,
            "counts": {str(status): count for status, count in summary.counts.items()}}


def is_image_step(step) -> bool:
    """Whether `step` is an image step (one that can show its pictures), without importing the
    image code for steps that are not (if it is not loaded, no step is one)."""
    module = sys.modules.get("batchproc.image.step")
    return module is not None and isinstance(step, module.ImageStep)


def new_run_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{os.urandom(3).hex()}"


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def image_engines() -> str:
    """The image libraries installed, found without importing them: libvips would cost the
    parent a tenth of a second, and importlib.metadata a few hundredths. libvips' version is
    its pyvips-binary package's, when it comes that way."""
    found = []
    try:
        import PIL  # the package alone: no image code

        found.append(f"Pillow {PIL.__version__}")
    except ImportError:
        pass
    spec = importlib.util.find_spec("pyvips")
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        packages = dict(path.name[:-len(".dist-info")].split("-", 1) for path in site.glob("pyvips*-*.dist-info"))
        if "pyvips_binary" in packages:
            found.append(f"libvips {packages['pyvips_binary']} (pyvips {packages.get('pyvips', '?')})")
        else:
            found.append(f"libvips (pyvips {packages.get('pyvips', '?')})")
    return ", ".join(found) or "none"
