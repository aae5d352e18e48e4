"""The hooks a batchproc plugin can implement."""

import pluggy

hookspec = pluggy.HookspecMarker("batchproc")


@hookspec
def register_steps(register):
    "Register Step subclasses: call register(StepClass) once for each."
