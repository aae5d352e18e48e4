"""`batchproc state`: what is recorded, folder by folder, and forgetting a folder."""

from __future__ import annotations

import datetime
import os
import sys

from batchproc.errors import UsageError
from batchproc.state import describe
from batchproc.state_dir import state_file, state_home

KINDS = ("outputs", "inputs")


def list_states(option: str | None) -> None:
    """One line per recorded folder on stdout: folder, kind, per-step counts, last written."""
    home = state_home(option)
    lines = []
    for kind in KINDS:
        folder = os.path.join(home, kind)
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        for name in names:
            if not name.endswith(".sqlite"):
                continue
            path = os.path.join(folder, name)
            about = describe(path)
            if about is None:
                continue
            counts = "; ".join(f"{step}: " + ", ".join(f"{n} {status}" for status, n in sorted(by.items()))
                               for step, by in sorted(about["steps"].items())) or "nothing yet"
            written = datetime.datetime.fromtimestamp(os.stat(path).st_mtime).strftime("%Y-%m-%d %H:%M")
            gone = "" if os.path.isdir(about["folder"]) else " (folder gone)"
            lines.append(f"{about['folder']}{gone}\t{about['kind']}\t{counts}\t{written}")
    for line in sorted(lines):
        print(line)


def forget_folder(folder: str, option: str | None) -> None:
    """Remove what is recorded for `folder` (as an output folder and as an input folder)."""
    home = state_home(option)
    removed = False
    for kind in KINDS:
        path = state_file(home, folder, kind)
        for candidate in (path, path + "-journal"):
            try:
                os.unlink(candidate)
                removed = removed or candidate == path
            except FileNotFoundError:
                pass
    if not removed:
        raise UsageError(f"no state is kept for {folder} in {home}")
    print(f"forgot the state of {os.path.realpath(folder)}", file=sys.stderr)
