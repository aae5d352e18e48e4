"""The hooks a batchproc plugin can implement."""

import pluggy

hookspec = pluggy.HookspecMarker("batchproc")
#: Marks a plugin's hook implementations: `@hookimpl def register_steps(register): ...`
hookimpl = pluggy.HookimplMarker("batchproc")


@hookspec
def register_steps(register):
    "Register Step subclasses: call register(StepClass) once for each."
