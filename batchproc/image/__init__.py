"""The public interface for steps that work on pictures: subclass ImageStep, change a Picture.

    from batchproc.image import ImageStep, Picture
"""

from batchproc.image.step import ImageStep

__all__ = ["ImageStep", "Metadata", "Picture"]


def __getattr__(name: str):
    # Picture and Metadata (and the decoding they bring) load on first use: the parent, which
    # only parses options and plans, starts sooner without them.
    if name == "Picture":
        from batchproc.image.picture import Picture

        return Picture
    if name == "Metadata":
        from batchproc.image.metadata import Metadata

        return Metadata
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
