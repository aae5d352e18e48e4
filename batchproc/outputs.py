"""Where outputs go (a mirror of the input tree) and how they are written (atomically)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from batchproc.errors import UsageError
from batchproc.walk import TEMP_PREFIX, Found


@dataclass(frozen=True)
class OutputLayout:
    """Maps each input to its output path.

    out: every folder argument's tree is mirrored under this folder.
    in_place: outputs replace their inputs (or sit beside them with a new extension).
    Neither: each folder argument gets a sibling folder named after it plus `suffix`.
    suffix None: the step writes no files at all.
    """

    suffix: str | None
    out: str | None = None
    in_place: bool = False

    @property
    def writes(self) -> bool:
        return self.suffix is not None

    def root_for(self, found: Found) -> str | None:
        """The folder that holds this input's output (and the run's state and lock)."""
        if not self.writes:
            return None
        if self.in_place:
            return found.root or os.path.dirname(found.path) or "."
        if self.out is not None:
            return self.out
        return sibling_folder(found.root or os.path.dirname(found.path) or ".", self.suffix)

    def target_for(self, found: Found, output_name: str) -> str | None:
        """The output path of `found`, given the step's name for its output file."""
        root = self.root_for(found)
        if root is None:
            return None
        if self.in_place:
            return os.path.join(os.path.dirname(found.path), output_name)
        relfolder = os.path.dirname(found.relpath) if found.root else _loose_folder(found.path, self.out)
        return os.path.join(root, relfolder, output_name)

    def output_folders(self, args: list[str]) -> list[str]:
        """The folders outputs go to, for the arguments given (never walked as inputs)."""
        if not self.writes or self.in_place:
            return []
        if self.out is not None:
            return [self.out]
        return [sibling_folder(path, self.suffix) for path in args if os.path.isdir(path)]

    def check_roots(self, roots: list[str]) -> None:
        """Refuse an --out that would overwrite its inputs."""
        if self.out is None or self.in_place:
            return
        out = os.path.realpath(self.out)
        for root in roots:
            if os.path.isdir(root) and os.path.realpath(root) == out:
                raise UsageError(
                    f"--out {self.out} is the input folder {root}; use --in-place to overwrite inputs"
                )


def sibling_folder(folder: str, suffix: str) -> str:
    """`imgs` -> `imgs_resized`: a new folder beside the input folder (`.` -> `../name_resized`)."""
    normal = os.path.normpath(folder)
    if os.path.basename(normal) in ("", ".", ".."):
        normal = os.path.abspath(normal)
        if os.path.dirname(normal) == normal:
            raise UsageError(f"cannot put outputs beside {folder}: give --out")
    return normal + suffix


def _loose_folder(path: str, out: str | None) -> str:
    # With --out, a file named directly keeps its folder relative to the working directory, so
    # `find . | batchproc ... --out o` mirrors the tree; a file outside it lands at the top.
    if out is None:
        return ""
    relative = os.path.relpath(os.path.dirname(os.path.abspath(path)))
    return "" if relative == "." or relative.startswith("..") else relative


def temporary_path(target: str) -> str:
    """A fresh hidden name beside `target`, ending with the same extension (for format detection)."""
    folder, name = os.path.split(target)
    if len(os.fsencode(name)) > 200:  # keep within the 255-byte name limit
        name = os.path.splitext(name)[1][-20:]
    return os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}-{name}")


def remove_temporaries(folder: str, pid: int) -> None:
    """Delete the temporary files a killed worker left in `folder`."""
    prefix = f"{TEMP_PREFIX}{pid}-"
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
