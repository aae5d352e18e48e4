"""The chain step: several image steps on one decode, written like a shell pipeline."""

from __future__ import annotations

import inspect
import itertools
import shlex
import typing
from typing import Annotated, Any, Iterable, Mapping

import click
import typer

from batchproc import hookimpl
from batchproc.errors import UsageError
from batchproc.image.limits import DEFAULT_MAX_PIXELS
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
    from batchproc.registry import load_registry

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
    registry = load_registry()
    chainable = sorted(name for name, cls in registry.steps.items()
                       if issubclass(cls, ImageStep) and cls is not Chain)
    steps = []
    for name, *args in groups:
        step_class = registry.steps.get(name)
        if step_class is None or name not in chainable:
            raise UsageError(f"--steps: {name!r} is not an image step; these can be chained: "
                             f"{', '.join(chainable)}")
        options = _parse_options(step_class, args)
        try:
            steps.append(step_class(**options))
        except UsageError as error:
            raise UsageError(f"--steps {name}: {error}") from None
    return steps


def _parse_options(step_class, args: list[str]) -> dict:
    """Parse one step's words with the same typer options its own command has."""

    def command(**values):
        return values

    hints = typing.get_type_hints(step_class.__init__, include_extras=True)
    parameters = [p.replace(kind=p.KEYWORD_ONLY, annotation=hints.get(p.name, str))
                  for p in inspect.signature(step_class.__init__).parameters.values()
                  if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    command.__signature__ = inspect.Signature(parameters)
    app = typer.Typer(add_completion=False)
    app.command(step_class.name)(command)
    try:
        values = typer.main.get_command(app).main(args=args, prog_name=step_class.name,
                                                  standalone_mode=False)
    except click.ClickException as error:
        raise UsageError(f"--steps {step_class.name}: {' '.join(error.format_message().split())}") from None
    if not isinstance(values, dict):  # --help printed the step's help instead
        raise UsageError(f"--steps {step_class.name}: options only (see batchproc {step_class.name} --help)")
    return values


@hookimpl
def register_steps(register):
    register(Chain)
