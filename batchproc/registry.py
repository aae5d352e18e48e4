"""Finding steps: built-in and installed plugins through one entry-point group, plus named folders."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from batchproc import hookspecs
from batchproc.options import BUILT_IN_COMMANDS, taken_option_names

ENTRY_POINT_GROUP = "batchproc"
hookimpl = pluggy.HookimplMarker("batchproc")


@dataclass
class Registry:
    """The steps that loaded, where each came from, and what failed to load."""

    steps: dict[str, type] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_active: Registry | None = None


def activate(plugin_dirs: tuple[str, ...] = ()) -> Registry:
    """Load the steps this process works with (the CLI and every worker call this with their
    explicit plugin folders), for steps that look others up (chain) through `current()`."""
    global _active
    _active = load_registry(plugin_dirs)
    return _active


def current() -> Registry:
    """The steps this process activated (the installed ones, if it activated none)."""
    return _active if _active is not None else activate()


def load_registry(plugin_dirs: tuple[str, ...] = ()) -> Registry:
    """Load every plugin (entry points, then `.py` files in plugin_dirs) and collect its steps."""
    manager = pluggy.PluginManager("batchproc")
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    origins = {}
    for name, module, origin in _iter_plugin_modules(plugin_dirs, registry.warnings):
        try:
            manager.register(module, name=name)
            origins[name] = origin
        except (ValueError, pluggy.PluginValidationError) as error:
            registry.warnings.append(f"plugin {origin} skipped: {error}")
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        registry.warnings.append(str(error))
    # Call each implementation on its own, so one broken plugin cannot hide the others.
    for impl in reversed(manager.hook.register_steps.get_hookimpls()):
        origin = origins.get(impl.plugin_name, impl.plugin_name)
        try:
            impl.function(register=_registrar(registry, origin))
        except Exception as error:
            registry.warnings.append(f"plugin {origin} failed to register: {error}")
    return registry


def _registrar(registry: Registry, origin: str):
    def register(step_class):
        name = getattr(step_class, "name", "")
        if not name:
            registry.warnings.append(f"plugin {origin}: a step without a name was skipped")
        elif name in BUILT_IN_COMMANDS:
            registry.warnings.append(f"plugin {origin}: step {name!r} skipped: {name} is a "
                                     "batchproc command")
        elif clash := _clashing_option(step_class):
            registry.warnings.append(f"plugin {origin}: step {name!r} skipped: its option {clash} "
                                     "is named like a run option")
        elif name in registry.steps:
            registry.warnings.append(
                f"plugin {origin}: step {name!r} is already provided by {registry.origins[name]}"
            )
        else:
            registry.steps[name] = step_class
            registry.origins[name] = origin

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
                yield f"file:{path}", _import_file(path), str(path)
            except Exception as error:
                warnings.append(f"plugin file {path} failed to load: {error}")


def _import_file(path: Path):
    module_name = f"batchproc_local_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
