"""A step's options, read from its typed `__init__`: as command-line parameters, as the keys a
job file may use, and parsed from words (`resize --max 1280`, as chain's --steps holds them)."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from batchproc.errors import UsageError


def step_parameters(step_class) -> list[inspect.Parameter]:
    """The options of a step: the keyword arguments of its __init__, annotations resolved."""
    # eval_str resolves postponed annotations as written (typing.get_type_hints on Python 3.10
    # would wrap `Annotated[...] = None` in an Optional that typer cannot read). typer is put
    # within their reach: a step module may import it only for type checkers, so that workers,
    # which never read options, never import it.
    import typer

    init = step_class.__init__
    names = {**getattr(init, "__globals__", {}), "typer": typer}
    parameters = []
    for parameter in inspect.signature(init, globals=names, eval_str=True).parameters.values():
        if parameter.name == "self" or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        annotation = str if parameter.annotation is parameter.empty else parameter.annotation
        parameters.append(parameter.replace(kind=parameter.KEYWORD_ONLY, annotation=annotation))
    return parameters


def option_names(parameters) -> dict[str, str]:
    """Every spelling a job file may use (max, max-pixels, max_pixels) -> the parameter name."""
    names = {}
    for parameter in parameters:
        names[parameter.name] = parameter.name
        for extra in typing.get_args(parameter.annotation)[1:]:
            # In Annotated form typer keeps the first declaration as the "default".
            declarations = [getattr(extra, "default", None), *(getattr(extra, "param_decls", None) or ())]
            for declaration in declarations:
                if isinstance(declaration, str) and declaration.startswith("--"):
                    for spelling in declaration[2:].split("/"):
                        names[spelling.lstrip("-")] = parameter.name
                        names[spelling.lstrip("-").replace("-", "_")] = parameter.name
    return names


def translate(values: dict[str, Any], parameters, what: str) -> dict[str, Any]:
    """Option values keyed by parameter name; an unknown key is a UsageError."""
    names = option_names(parameters)
    translated = {}
    for key, value in values.items():
        if key not in names:
            raise UsageError(f"{what}: unknown option {key!r}")
        translated[names[key]] = value
    return translated


def parse_words(step_class, words: list[str]) -> dict[str, Any]:
    """A step's option values from words, with the same parser its own command has."""
    import click
    import typer

    def command(**values):
        return values

    parameters = step_parameters(step_class)
    command.__signature__ = inspect.Signature(parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    app = typer.Typer(add_completion=False)
    app.command(step_class.name)(command)
    try:
        values = typer.main.get_command(app).main(args=words, prog_name=step_class.name,
                                                  standalone_mode=False)
    except click.ClickException as error:
        raise UsageError(f"{step_class.name}: {' '.join(error.format_message().split())}") from None
    if not isinstance(values, dict):  # --help printed the step's help instead
        raise UsageError(f"{step_class.name}: options only (see batchproc {step_class.name} --help)")
    return values
