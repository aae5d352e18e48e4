"""exec's command template: GNU parallel's replacement strings, plus `{out}`, filled in per file.

In argv mode the template is split once, as a shell would (`shlex`), and each placeholder is
replaced inside its argument: a file name is always one argument, whatever it holds, and
nothing is ever parsed by a shell. With --shell the template is a `sh -c` script and each
placeholder becomes a shell-quoted word.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from batchproc.errors import UsageError

#: The replacement strings, by what they stand for.
INPUT, STEM, BASENAME, FOLDER, BASE_STEM, OUT = "{}", "{.}", "{/}", "{//}", "{/.}", "{out}"
PLACEHOLDER = re.compile(r"\{(?:|\.|/|//|/\.|out)\}")
#: Those naming the input: a template with none of them gets the input path as a last argument.
INPUT_PLACEHOLDERS = frozenset({INPUT, STEM, BASENAME, FOLDER, BASE_STEM})
SHELL = "/bin/sh"


@dataclass(frozen=True)
class Template:
    """A parsed --cmd (or --check, or --name): literal text and placeholders, per argument."""

    text: str
    shell: bool
    #: Per argument (one, the script, with --shell): literal strings and placeholders, in order.
    parts: tuple[tuple[str, ...], ...]
    #: The placeholders it uses.
    used: frozenset[str]

    @classmethod
    def parse(cls, text: str, *, shell: bool = False, what: str = "--cmd") -> "Template":
        if not text or not text.strip():
            raise UsageError(f"{what} is empty: give the command to run on each file")
        if shell:
            words = [text]
        else:
            try:
                words = shlex.split(text)
            except ValueError as error:  # an unbalanced quote
                raise UsageError(f"{what} {text!r}: {error}") from None
        parts = tuple(_split(word) for word in words)
        used = frozenset(part for word in parts for part in word if PLACEHOLDER.fullmatch(part))
        return cls(text, shell, parts, used)

    @property
    def program(self) -> str | None:
        """The program argv mode runs, when the template names it (not `{}` or `{out}`)."""
        if self.shell or not self.parts:
            return None
        first = self.parts[0]
        return None if any(PLACEHOLDER.fullmatch(part) for part in first) else "".join(first)

    @property
    def uses_input(self) -> bool:
        return bool(self.used & INPUT_PLACEHOLDERS)

    def argv(self, values: dict[str, str], *, append: str | None = None) -> list[str]:
        """The command for one file: argv, or `sh -c SCRIPT` with --shell. `append` (the input
        path) is added as a last argument."""
        if self.shell:
            script = "".join(shlex.quote(values[part]) if part in values else part for part in self.parts[0])
            if append is not None:
                script += " " + shlex.quote(append)
            return [SHELL, "-c", script]
        argv = ["".join(values[part] if part in values else part for part in word) for word in self.parts]
        if append is not None:
            argv.append(append)
        return argv


def _split(word: str) -> tuple[str, ...]:
    # "{/.}-small.mp4" -> ("{/.}", "-small.mp4"): placeholders and the literal text between them.
    pieces, start = [], 0
    for match in PLACEHOLDER.finditer(word):
        if match.start() > start:
            pieces.append(word[start:match.start()])
        pieces.append(match.group())
        start = match.end()
    if start < len(word) or not pieces:
        pieces.append(word[start:])
    return tuple(pieces)


def values_for(source: str, out: str | None) -> dict[str, str]:
    """What each placeholder stands for, for the input `source` and the output path `out`.
    Paths never start with `-`, so no command can take one for an option (`./-n.txt`)."""
    folder, name = os.path.split(source)
    base_stem = os.path.splitext(name)[0]
    values = {
        INPUT: _not_an_option(source),
        STEM: _not_an_option(os.path.join(folder, base_stem)),
        BASENAME: name,
        FOLDER: _not_an_option(folder or "."),
        BASE_STEM: base_stem,
    }
    if out is not None:
        values[OUT] = _not_an_option(out)
    return values


def _not_an_option(path: str) -> str:
    return "./" + path if path.startswith("-") else path


def shell_words(argv: list[str]) -> str:
    """The command as one line a shell would run the same way (--dry-run)."""
    if len(argv) == 3 and argv[0] == SHELL and argv[1] == "-c":
        return argv[2]  # the script itself: its placeholders are quoted already
    return " ".join(shlex.quote(arg) for arg in argv)
