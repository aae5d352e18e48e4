"""batchproc: a parallel batch file processor for the command line.

The interface for plugins is what this package exports (and batchproc.image for picture steps).
"""

__version__ = "0.2.0"

__all__ = ["Step", "StepError", "Unchanged", "UsageError", "hookimpl", "__version__"]


def __getattr__(name: str):
    # Imported on first use, so that `batchproc --help` does not pay for what it does not show.
    if name == "Step":
        from batchproc.step import Step

        return Step
    if name in ("StepError", "Unchanged", "UsageError"):
        from batchproc import errors

        return getattr(errors, name)
    if name == "hookimpl":
        from batchproc.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'batchproc' has no attribute {name!r}")
