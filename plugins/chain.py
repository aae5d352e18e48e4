"""The chain step: several image steps on one decode, written like a shell pipeline."""

from __future__ import annotations

import itertools
import shlex
from typing import TYPE_CHECKING, Annotated, Any, Iterable, Mapping

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import hookimpl
from batchproc.errors import UsageError
from batchproc.image.limits import DEFAULT_MAX_PIXELS
from batchproc.step_options import parse_words
from batchproc.image import ImageStep, Picture

IMAGE = "Image options"


class Chain(ImageStep):
    """Run several image steps on each image, decoding it once and encoding it once.

    --steps lists the steps as on their own command lines, joined by |. Any installed image
    step can take part (resize, thumbnail, strip, convert and plugins' own). A step with several
    outputs (resize --widths) makes each of them go through the rest of the chain. EXIF
    orientation is always applied. Outputs go to imgs_processed unless --out or --in-place.

    \b
    Example: batchproc chain ./imgs --steps 'resize --max 1280 | strip | convert --format webp'
    """

    name = "chain"
    summary = "Run several image steps on one decode: resize | strip | convert..."
    output_suffix = "_processed"

    def __init__(
        self,
        steps: Annotated[str, typer.Option(
            "--steps", help="Image steps with their options, joined by |: "
            "'resize --widths 320,640 | strip | convert --format webp'.", rich_help_panel=IMAGE)],
        max_pixels: Annotated[int, typer.Option(
            "--max-pixels", min=1, help="Refuse images with more pixels than this "
            "(decompression bombs).", rich_help_panel=IMAGE)] = DEFAULT_MAX_PIXELS,
    ) -> None:
        if not isinstance(steps, str):  # a job file's list of step tables
            steps = chain_text(steps)
        super().__init__(steps=steps, max_pixels=max_pixels)
        self.steps = parse_chain(steps)
        self.max_pixels = max_pixels

    def fork(self, picture: Picture) -> list[Picture]:
        pictures = [picture]
        for step in self.steps:
            pictures = [result for each in pictures for result in step.fork(each)]
        return pictures

    def transform(self, picture: Picture) -> Picture:
        return self.fork(picture)[0]

    def output_tags(self) -> list[str]:
        return ["".join(tags) for tags in itertools.product(*(s.output_tags() for s in self.steps))]

    def output_format(self, chosen: str) -> str:
        for step in self.steps:
            chosen = step.output_format(chosen)
        return chosen


def build_chain(specs: Iterable[Mapping[str, Any]], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Chain:
    """A chain step from specs such as [{"step": "resize", "max": 1280}, {"step": "strip"},
    {"step": "convert", "format": "webp"}]: keys are the options' long names (without --,
    - or _ alike); True is a flag, False or None leaves it out, a list is comma-joined."""
    return Chain(steps=chain_text(specs), max_pixels=max_pixels)


def chain_text(specs: Iterable[Mapping[str, Any]]) -> str:
    """The --steps text for step specs (the form workers rebuild the chain from)."""
    parts = []
    for spec in specs:
        options = dict(spec)
        if not isinstance(options.get("step"), str):
            raise UsageError(f"a chain step needs a \"step\" name: {spec!r}")
        words = [options.pop("step")]
        for key, value in options.items():
            option = "--" + key.replace("_", "-")
            if value is True:
                words.append(option)
            elif value is not None and value is not False:
                text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
                words += [option, text]
        parts.append(shlex.join(words))
    return " | ".join(parts)


def parse_chain(text: str) -> list[ImageStep]:
    """Build the steps of a --steps text: 'resize --max 1280 | convert --format webp'."""
    from batchproc import registry

    lexer = shlex.shlex(text, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as error:
        raise UsageError(f"bad --steps {text!r}: {error}") from None
    groups = [list(group) for is_bar, group in itertools.groupby(words, lambda w: w == "|") if not is_bar]
    if not groups or len(groups) != words.count("|") + 1 or any(w != "|" and not w.strip("|") for w in words):
        raise UsageError(f"bad --steps {text!r}: expected steps joined by single |, such as "
                         "'resize --max 1280 | convert --format webp'")
    installed = registry.current().steps
    chainable = sorted(name for name, cls in installed.items()
                       if issubclass(cls, ImageStep) and cls is not Chain)
    steps = []
    for name, *args in groups:
        step_class = installed.get(name)
        if step_class is None or name not in chainable:
            raise UsageError(f"--steps: {name!r} is not an image step; these can be chained: "
                             f"{', '.join(chainable)}")
        try:
            options = parse_words(step_class, args)
        except UsageError as error:
            raise UsageError(f"--steps {error}") from None
        try:
            steps.append(step_class(**options))
        except UsageError as error:
            raise UsageError(f"--steps {name}: {error}") from None
    return steps


@hookimpl
def register_steps(register):
    register(Chain)
