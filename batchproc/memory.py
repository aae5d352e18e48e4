"""How much memory a worker may use, and how much it uses.

The ceiling is enforced from outside: the parent reads each worker's resident memory, with that
of every process below it (the commands `exec` runs), and stops a worker that crosses it,
charging the file in hand. `setrlimit` would be simpler but is not
safe here: libvips (through GLib) aborts or crashes when an allocation fails instead of raising,
and an address-space limit counts memory never touched.
"""

from __future__ import annotations

import os
import re

from batchproc.errors import UsageError

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
#: Of what this process may use, the share all workers together get by default: the rest is
#: for the parent, the page cache and everyone else on the machine.
DEFAULT_SHARE = 0.8
#: No default ceiling goes below this: a worker needs room to import its libraries.
FLOOR = 256 << 20


def parse_size(text: str) -> int:
    """'2G', '1500M', '512MiB', '1.5g' -> bytes (powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"bad --max-memory {text!r}: expected a size such as 2G or 1500M")
    size = int(float(match[1]) * _UNITS[match[2].lower()])
    if size < 16 << 20:
        raise UsageError(f"bad --max-memory {text!r}: a worker needs at least 16M")
    return size


def ceiling(max_memory: str | None, jobs: int) -> int:
    """The bytes one worker may use: as given, or this process's memory shared among the jobs."""
    if max_memory:
        return parse_size(max_memory)
    return max(FLOOR, int(usable_memory() * DEFAULT_SHARE / max(1, jobs)))


def usable_memory() -> int:
    """The memory this process may use: its cgroup's limit when there is one, else the RAM."""
    ram = _PAGE * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 1 << 34
    limit = _cgroup_limit()
    return min(ram, limit) if limit else ram


def _cgroup_limit() -> int | None:
    try:
        with open("/proc/self/cgroup") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: the limit is the tightest on the way up to the root
            folder = "/sys/fs/cgroup" + path.rstrip("/")
            while folder.startswith("/sys/fs/cgroup"):
                limits.append(_read_limit(os.path.join(folder, "memory.max")))
                folder = os.path.dirname(folder)
        elif "memory" in controllers.split(","):
            limits.append(_read_limit(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"))
    limits = [limit for limit in limits if limit]
    return min(limits) if limits else None


def _read_limit(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= 1 << 60:  # "max", or v1's "no limit" sentinel
        return None
    return int(text)


def resident(pid: int) -> int:
    """Resident memory of one process, in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_resident(pid: int) -> int:
    """Resident memory of a process and every process below it, in bytes. Pages they share
    (libraries, copy-on-write) are counted once per process: an overestimate of at most a few
    megabytes per process, where the ceiling is hundreds."""
    from batchproc.process_tree import descendants

    return resident(pid) + sum(resident(child) for child in descendants(pid))


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):.0f} MB"
