"""Loading plugins: built-in and installed ones through one entry-point group, plus the `.py`
files of folders named with --plugin-dir; each registers its steps through a pluggy hook.

This is the slow path (it imports every plugin): batchproc.registry keeps its outcome in a
cache and comes here only when something installed has changed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pluggy

from batchproc import hookspecs
from batchproc.options import BUILT_IN_COMMANDS, taken_option_names

ENTRY_POINT_GROUP = "batchproc"
#: The distribution whose entry points are batchproc's own built-in steps.
DISTRIBUTION = "batchproc"
#: Module names plugin files are imported under (never a bare name a file could shadow).
FILE_MODULE_PREFIX = "batchproc_local_"


def collect_steps(plugin_dirs: tuple[str, ...]):
    """(step classes by name with where each came from, warnings, the files that were read)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    hookspecs.add_hookspecs(manager)
    warnings: list[str] = []
    origins = {}
    own = set()  # plugins of batchproc's own distribution, which alone may use a command's name
    before = set(sys.modules)
    for name, module, origin in _iter_plugin_modules(plugin_dirs, warnings):
        try:
            manager.register(module, name=name)
            origins[name] = origin
            if not name.startswith("file:") and origin.split(":", 1)[0] == DISTRIBUTION:
                own.add(name)
        except (ValueError, pluggy.PluginValidationError) as error:
            warnings.append(f"plugin {origin} skipped: {error}")
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        warnings.append(str(error))
    steps: dict[str, tuple[type, str]] = {}
    # Call each implementation on its own, so one broken plugin cannot hide the others.
    for impl in reversed(manager.hook.register_steps.get_hookimpls()):
        origin = origins.get(impl.plugin_name, impl.plugin_name)
        try:
            impl.function(register=_registrar(steps, warnings, origin, impl.plugin_name in own))
        except Exception as error:
            warnings.append(f"plugin {origin} failed to register: {error}")
    modules = (set(sys.modules) - before) | {cls.__module__ for cls, _ in steps.values()}
    read = {getattr(sys.modules.get(name), "__file__", None) for name in modules}
    return steps, warnings, sorted(path for path in read if path)


def _registrar(steps: dict, warnings: list[str], origin: str, own: bool):
    def register(step_class):
        name = getattr(step_class, "name", "")
        if not name:
            warnings.append(f"plugin {origin}: a step without a name was skipped")
        elif name in BUILT_IN_COMMANDS and not own:  # exec is batchproc's own, as a step
            warnings.append(f"plugin {origin}: step {name!r} skipped: {name} is a batchproc command")
        elif clash := _clashing_option(step_class):
            warnings.append(f"plugin {origin}: step {name!r} skipped: its option {clash} is named "
                            "like a run option")
        elif name in steps:
            warnings.append(f"plugin {origin}: step {name!r} is already provided by {steps[name][1]}")
        else:
            steps[name] = (step_class, origin)

    return register


def _clashing_option(step_class) -> str | None:
    """The first of the step's options named like a run option (present or reserved), if any."""
    from batchproc.step_options import option_names, step_parameters

    try:
        names = option_names(step_parameters(step_class))
    except Exception as error:  # an __init__ whose annotations do not resolve
        return f"(unreadable: {error})"
    clashes = sorted(set(names) & taken_option_names())
    return f"--{clashes[0].replace('_', '-')}" if clashes else None


def _iter_plugin_modules(plugin_dirs, warnings):
    from importlib.metadata import entry_points

    wanted = os.environ.get("BATCHPROC_LOAD_PLUGINS")
    wanted_names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if wanted_names is not None and entry_point.name not in wanted_names:
            continue
        origin = f"{entry_point.dist.name if entry_point.dist else '?'}:{entry_point.name}"
        try:
            yield entry_point.name, entry_point.load(), origin
        except Exception as error:
            warnings.append(f"plugin {entry_point.name} failed to load: {error}")
    for folder in plugin_dirs:
        for path in sorted(Path(folder).glob("*.py")):
            try:
                yield f"file:{path}", import_file(str(path), fresh=True), str(path)
            except Exception as error:
                warnings.append(f"plugin file {path} failed to load: {error}")


def import_file(path: str, *, fresh: bool = False):
    """Import a plugin file under a name of batchproc's own (again only if `fresh`)."""
    module_name = FILE_MODULE_PREFIX + Path(path).stem
    module = sys.modules.get(module_name)
    if not fresh and module is not None and getattr(module, "__file__", None) == path:
        return module
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
