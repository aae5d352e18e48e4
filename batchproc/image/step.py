"""Image steps: batchproc decodes each file once, runs it through `transform`, encodes it, and
checks the output reads back before it is published."""

from __future__ import annotations

import itertools
import os
import shutil
import warnings
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from batchproc.errors import StepError, Unchanged
from batchproc.image.formats import FORMATS, IMAGE_EXTENSIONS, format_for
from batchproc.image.limits import DEFAULT_MAX_PIXELS
from batchproc.step import Step

# The pipeline itself (decoding, pictures, encoding, checks) is imported where it runs, in the
# workers: the parent only parses options and plans, and starts sooner without it.
if TYPE_CHECKING:
    from batchproc.image.picture import Picture
    from batchproc.image.verify import Expected


class ImageStep(Step):
    """A step on images that can join a chain: it changes a Picture in `transform`.

    batchproc decodes the file, passes the Picture through the step's `transform` (or through
    every step of a chain), encodes the result and checks that it reads back, so subclasses
    never open, save or verify files.
    """

    extensions = IMAGE_EXTENSIONS
    accepts = "not an image"
    max_chunk = 4
    preload_modules = ("batchproc.image.warm",)
    #: Refuse images with a frame or page of more pixels than this, or an animation of more
    #: than 5 times this in all (decompression bombs): batchproc.image.limits.
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Why a file is skipped in place, or copied as it is, when no step changed its picture.
    unchanged_reason: ClassVar[str] = "nothing to change"

    def transform(self, picture: Picture) -> Picture:
        """Return the changed picture (Picture.map changes every frame)."""
        raise NotImplementedError

    def fork(self, picture: Picture) -> list[Picture]:
        """One picture per entry of `output_tags`; most steps make exactly one."""
        return [self.transform(picture)]

    def output_tags(self) -> list[str]:
        """What tells this step's outputs apart in their names: [""] for one output,
        ["-320", "-640"] for two (a-320.jpg, a-640.jpg)."""
        return [""]

    def output_format(self, chosen: str) -> str:
        """The output format after this step, given the one chosen before ("keep": the input's)."""
        return chosen

    def output_names(self, name: str) -> list[str]:
        return image_output_names([self], name)

    def process(self, source: Path, target) -> dict:
        return process_image([self], source, target, max_pixels=self.max_pixels, step=self)

    def verify(self, outputs: list[Path], data: dict, *, thorough: bool) -> None:
        """Each output reads back as written: batchproc.image.verify says how."""
        from batchproc.image.verify import check_output

        written = getattr(self, "_written", {})
        for index, path in enumerate(outputs):
            expected = written.pop(str(path), None) or _expected_from(data, index)
            check_output(path, expected, thorough=thorough, max_pixels=self.max_pixels)


def final_format(steps: list[ImageStep]) -> str:
    """The output format a list of steps settles on ("keep" if none changes it)."""
    chosen = "keep"
    for step in steps:
        chosen = step.output_format(chosen)
    return chosen


def image_output_names(steps: list[ImageStep], name: str) -> list[str]:
    """Output names for an input name: its extension changed with the format, tags added."""
    chosen = final_format(steps)
    stem, extension = os.path.splitext(name)
    if chosen != "keep":
        extension = FORMATS[chosen][1]
    tag_lists = [step.output_tags() for step in steps]
    if all(tags == [""] for tags in tag_lists):
        return [name if chosen == "keep" else stem + extension]
    return [stem + "".join(tags) + extension for tags in itertools.product(*tag_lists)]


def process_image(steps: list[ImageStep], source: Path, target, *, max_pixels: int,
                  step: ImageStep) -> dict:
    """Decode `source` once, run it through `steps` and write every output picture; raise
    Unchanged when no step changed it (it is then copied, or in place, left alone).

    A TIFF written as TIFF keeps every page, each through the steps on its own; any other
    format gets the first page (or, unless it can animate, the first frame of an animation)."""
    from batchproc import previews
    from batchproc.image import thumbnails

    targets = target if isinstance(target, list) else [target]
    step._written = {}
    try:
        return _process(steps, source, targets, max_pixels, step)
    except Exception:  # the input may still decode (a failed write, a step's refusal)
        previews.offer("before", partial(thumbnails.of_file, source, max_pixels=max_pixels))
        raise


def _process(steps: list[ImageStep], source: Path, targets: list, max_pixels: int, step: ImageStep) -> dict:
    from batchproc.image.picture import Picture
    from batchproc.image.reading import open_image
    from batchproc.image.verify import Expected

    written = step._written
    with open_image(source, max_pixels=max_pixels) as opened:
        fmt = format_for(source.suffix, final_format(steps))
        pages = opened.pages if fmt == "tiff" else opened.pages[:1]
        if len(pages) < len(opened.pages):
            warnings.warn(f"kept the first of {len(opened.pages)} pages: {FORMATS[fmt][0]} holds one picture")
        elif opened.frame_count > 1 and fmt not in ("gif", "webp"):
            warnings.warn(f"kept the first of {opened.frame_count} frames: {FORMATS[fmt][0]} does not animate")
        inputs = [Picture._of(page, fmt, opened) for page in pages]
        outputs = list(zip(*(_through(steps, picture) for picture in inputs)))
        unchanged = [len(pages) == len(opened.pages) and opened.engine == "pillow"
                     and all(picture._unchanged for picture in pictures) for pictures in outputs]
        if any(unchanged) and opened.repaired is None \
                and not _readable_as_is(source, fmt, opened, max_pixels):
            unchanged = [False] * len(outputs)  # written again, in a form every reader takes
        sizes = []
        for pictures, path, as_is in zip(outputs, targets, unchanged, strict=True):
            sizes.append(pictures[0].upright_size)
            count = len(pictures) if fmt == "tiff" else len(pictures[0]._frames) + 1
            if not as_is:
                written[str(path)] = Expected(fmt, sizes[-1], count, _write(pictures, path))
            elif opened.repaired is not None:  # the input, less the text Pillow refused
                path.write_bytes(opened.repaired)
                written[str(path)] = Expected(fmt, sizes[-1], count, thorough=True)
            else:  # the input as it is, proved to read back in full: a copy is compared with it
                written[str(path)] = Expected(fmt, sizes[-1], count, same_as=str(source))
                if not all(unchanged):  # other outputs changed: this one is copied here
                    shutil.copyfile(source, path)
        _offer_input_thumbnail(inputs[0], outputs[0][0], as_is=unchanged[0])
    data = _data(sizes, fmt, count)
    if all(unchanged) and opened.repaired is None:
        raise Unchanged(step.unchanged_reason, data)
    return data


def _through(steps, picture: Picture) -> list[Picture]:
    pictures = [picture]
    for step in steps:
        pictures = [result for each in pictures for result in step.fork(each)]
    return pictures


def _write(pictures: list[Picture], path) -> str:
    """Write a picture (with its further pages): orientation applied, in its format."""
    from batchproc import previews
    from batchproc.image.writing import save

    first, *rest = [picture._uprighted() for picture in pictures]
    mode = save(first._pixels(), path, first.format, quality=first.quality, metadata=first.metadata,
                background=first.background, lossless=first.lossless, frames=first._frames or None,
                frame_info=first._frame_info,
                pages=[(page._pixels(), page.metadata) for page in rest] or None)
    # A JPEG's check decodes it anyway: the thumbnail comes from there if it can.
    previews.offer_later("after", partial(_output_thumbnail, first))
    return mode


def _offer_input_thumbnail(source: Picture, output: Picture, *, as_is: bool) -> None:
    """The report's thumbnail of the input, once every output is written (drafting the input
    now changes no output). A picture only scaled shows its output's thumbnail for its input
    too, as the libvips engine does: a thumbnail is a scaled copy either way."""
    from batchproc import previews

    if not previews.wanted():
        return
    from batchproc.image import thumbnails

    if output._scaled and not as_is and not (  # transparency flattened: the input looks otherwise
            output.format in ("jpeg", "bmp") and source._pixels().mode in ("RGBA", "LA", "PA", "P")):
        icc = source.metadata.icc_profile
        change = None if output.metadata.icc_profile == icc else partial(thumbnails.with_profile, icc=icc)
        previews.before_as_after(source.upright_size, change=change)
        return
    previews.offer("before", partial(thumbnails.of_picture, source))
    if as_is:
        previews.offer("after", lambda size: previews.offered("before"))


def _output_thumbnail(picture: Picture, size: int):
    """The thumbnail of an output picture as written: transparency flattened where its format
    has none."""
    from batchproc.image import thumbnails

    flat = picture.format in ("jpeg", "bmp")
    icc = picture.metadata.icc_profile
    return thumbnails.of_pixels(picture._pixels(), size, picture_size=picture.upright_size, icc=icc,
                                background=picture.background if flat else None)


def _readable_as_is(source: Path, fmt: str, opened, max_pixels: int) -> bool:
    """Whether the input, as it is, is an output every reader takes. It must decode in full in
    Pillow (else the file fails, saying why); if libvips (when installed) cannot decode it, it
    is not copied but written again."""
    from batchproc.image.verify import Expected, check_output, check_with_vips

    expected = Expected(fmt, opened.size, len(opened.pages) if fmt == "tiff" else opened.frame_count)
    check_output(source, expected, thorough=True, max_pixels=max_pixels, libvips=False)
    try:
        check_with_vips(source, expected)
    except StepError:
        return False
    return True


def _data(sizes: list, fmt: str, count: int) -> dict:
    extra = {("pages" if fmt == "tiff" else "frames"): count} if count > 1 else {}
    if len(sizes) == 1:
        return {"width": sizes[0][0], "height": sizes[0][1], "format": fmt, **extra}
    return {"sizes": [f"{width}x{height}" for width, height in sizes], "format": fmt, **extra}


def _expected_from(data: dict, index: int) -> Expected:
    """What an output should be, from a step's record when the pipeline did not say (the
    libvips resize engine)."""
    from batchproc.image.verify import Expected

    if "sizes" in data:
        width, height = map(int, data["sizes"][index].split("x"))
    elif "width" in data:
        width, height = data["width"], data["height"]
    else:
        return Expected(data.get("format", "png"))
    return Expected(data.get("format", "png"), (width, height))
