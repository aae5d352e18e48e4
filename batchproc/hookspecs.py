"""The hooks a batchproc plugin can implement, and the marker for its implementations."""

from __future__ import annotations

PROJECT = "batchproc"


def register_steps(register):
    "Register Step subclasses: call register(StepClass) once for each."


def hookimpl(function=None, *, wrapper=False, hookwrapper=False, optionalhook=False,
             tryfirst=False, trylast=False, specname=None):
    """Mark a plugin's hook function: `@hookimpl def register_steps(register): ...`.

    It sets exactly what pluggy.HookimplMarker("batchproc") sets (a test keeps them equal),
    without importing pluggy: a run imports its step's module, which imports this, and pluggy
    brings importlib.metadata with it, tens of milliseconds at every start."""

    def mark(func):
        setattr(func, f"{PROJECT}_impl", {
            "wrapper": wrapper, "hookwrapper": hookwrapper, "optionalhook": optionalhook,
            "tryfirst": tryfirst, "trylast": trylast, "specname": specname})
        return func

    return mark if function is None else mark(function)


def add_hookspecs(manager) -> None:
    """Declare the hooks on a pluggy PluginManager."""
    import pluggy

    spec = pluggy.HookspecMarker(PROJECT)
    manager.add_hookspecs(type("BatchprocHooks", (), {"register_steps": staticmethod(spec(register_steps))}))
