"""batchproc: a parallel batch file processor for the command line."""

__version__ = "0.1.0"

from batchproc.errors import StepError  # noqa: E402
from batchproc.registry import hookimpl  # noqa: E402
from batchproc.step import Step  # noqa: E402

__all__ = ["Step", "StepError", "hookimpl", "__version__"]
