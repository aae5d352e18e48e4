"""The installed steps: their names, summaries and where each class lives, known without importing
every plugin, so that `batchproc --help` and a run of one step import only what they need.

Loading every plugin (batchproc.plugin_loading) is remembered in a cache file, valid while
every file that loading read is unchanged: the folders on sys.path (a package installed or
removed), and each plugin's source files (a plugin edited under `pip install -e`).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import zlib
from dataclasses import asdict, dataclass, field

#: Bump when the cache's layout changes.
CACHE_VERSION = 2


@dataclass(frozen=True)
class StepEntry:
    """Where one step comes from: enough to import its class in any process."""

    name: str
    summary: str
    #: The module defining the class; for a --plugin-dir plugin, `file` says where it is.
    module: str
    qualname: str
    #: Shown by `batchproc plugins`: "batchproc:resize", or the plugin file.
    origin: str
    file: str | None = None
    #: Modules the worker server imports for this step, beside its own (Step.preload_modules).
    preload: tuple[str, ...] = ()

    def load(self) -> type:
        """Import the step's class."""
        if self.file:
            from batchproc.plugin_loading import import_file

            module = import_file(self.file)
        else:
            module = importlib.import_module(self.module)
        found = module
        for part in self.qualname.split("."):
            found = getattr(found, part)
        return found


@dataclass
class Registry:
    """The steps that loaded, by name, and what failed to load (warnings for the user)."""

    entries: dict[str, StepEntry] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _classes: dict[str, type] = field(default_factory=dict, repr=False)

    def step_class(self, name: str) -> type | None:
        """The class of step `name` (imported on first use), or None if no such step is installed."""
        if name not in self._classes:
            entry = self.entries.get(name)
            if entry is None:
                return None
            self._classes[name] = entry.load()
        return self._classes[name]

    @property
    def steps(self) -> dict[str, type]:
        """Every step's class, by name (imports them all)."""
        return {name: self.step_class(name) for name in self.entries}


_active: Registry | None = None


def activate(plugin_dirs: tuple[str, ...] = (), entries: dict[str, StepEntry] | None = None) -> Registry:
    """Set the steps this process works with: the CLI with its --plugin-dir folders, a worker
    with the entries its parent sent (no scanning there). Steps that look others up (chain)
    find them through `current()`."""
    global _active
    _active = Registry(dict(entries)) if entries is not None else installed(plugin_dirs)
    return _active


def current() -> Registry:
    """The steps this process activated (the installed ones, if it activated none)."""
    return _active if _active is not None else activate()


def installed(plugin_dirs: tuple[str, ...] = ()) -> Registry:
    """The installed steps plus those in `plugin_dirs`: from the cache while it is valid."""
    path = _cache_path(plugin_dirs)
    cached = _read_cache(path) if path else None
    if cached is not None:
        return cached
    from batchproc.plugin_loading import collect_steps

    classes, warnings, read = collect_steps(plugin_dirs)
    registry = Registry({name: _entry(name, cls, origin) for name, (cls, origin) in classes.items()},
                       warnings, {name: cls for name, (cls, _) in classes.items()})
    if path:
        _write_cache(path, registry, read, plugin_dirs)
    return registry


def _entry(name: str, step_class: type, origin: str) -> StepEntry:
    module = sys.modules.get(step_class.__module__)
    from batchproc.plugin_loading import FILE_MODULE_PREFIX

    file = getattr(module, "__file__", None) if step_class.__module__.startswith(FILE_MODULE_PREFIX) else None
    return StepEntry(name, getattr(step_class, "summary", "") or "", step_class.__module__,
                     step_class.__qualname__, origin, file,
                     tuple(getattr(step_class, "preload_modules", ())))


def _cache_path(plugin_dirs: tuple[str, ...]) -> str | None:
    """One cache per interpreter, import path, plugin folders and plugin filter."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.environ.get("BATCHPROC_NO_CACHE") or base.startswith("~"):
        return None
    key = json.dumps([sys.executable, _import_path(), plugin_dirs, os.environ.get("BATCHPROC_LOAD_PLUGINS")])
    # A name, not a secret: a collision only costs a rebuild (the signature is checked anyway).
    digest = zlib.crc32(key.encode("utf-8", "surrogateescape"))
    return os.path.join(base, "batchproc", f"steps-{digest:08x}.json")


def _import_path() -> list[str]:
    # The working folder (python -m batchproc puts it first) is where the user happens to be,
    # not where plugins are installed: it would make a cache per folder, stale at every write.
    here = os.getcwd()
    return [p for p in sys.path if p and os.path.abspath(p) != here]


def _signature(read: list[str], plugin_dirs: tuple[str, ...]) -> list:
    """What the loading depended on, as (path, mtime, size): a change to any means loading again."""
    paths = [p for p in _import_path() if os.path.isdir(p)] + list(plugin_dirs) + list(read)
    signature = []
    for path in dict.fromkeys(paths):
        try:
            info = os.stat(path)
            signature.append([path, info.st_mtime_ns, info.st_size])
        except OSError:
            signature.append([path, None, None])
    return signature


def _read_cache(path: str) -> Registry | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("version") != CACHE_VERSION:
            return None
        for file, mtime, size in data["signature"]:
            try:
                info = os.stat(file)
            except OSError:
                if mtime is not None:
                    return None
                continue
            if [info.st_mtime_ns, info.st_size] != [mtime, size]:
                return None
        entries = {item["name"]: StepEntry(**{**item, "preload": tuple(item["preload"])})
                   for item in data["entries"]}
        return Registry(entries, list(data["warnings"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(path: str, registry: Registry, read: list[str], plugin_dirs: tuple[str, ...]) -> None:
    data = {"version": CACHE_VERSION, "signature": _signature(read, plugin_dirs),
            "entries": [asdict(entry) for entry in registry.entries.values()],
            "warnings": registry.warnings}
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, path)
    except OSError:  # no writable cache folder: the next start loads the plugins again
        try:
            os.unlink(temporary)
        except OSError:
            pass
