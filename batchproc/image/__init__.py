"""The public interface for steps that work on pictures: subclass ImageStep, change a Picture.

    from batchproc.image import ImageStep, Picture
"""

from batchproc.image.metadata import Metadata
from batchproc.image.picture import Picture
from batchproc.image.step import ImageStep

__all__ = ["ImageStep", "Metadata", "Picture"]
