"""Finding the files to process: folders walked lazily, one folder's files at a time."""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from typing import Iterable, Iterator

#: Names batchproc itself writes inside trees: its state folder and its temporary files.
STATE_FOLDER = ".batchproc"
TEMP_PREFIX = ".batchproc-"
#: Names copiers and browsers give a file while they write it (`photo.jpg.part`, `~$report.docx`):
#: a watch takes such a file only once it is renamed to its real name.
PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".filepart", ".tmp")
PARTIAL_PREFIXES = ("~$",)


@dataclass(slots=True)
class Found:
    """A path the walk met: a regular file to consider, or something it must report."""

    path: str
    #: The argument the path came from ("" when the path itself was an argument).
    root: str
    #: The path relative to `root` (the bare name for an argument).
    relpath: str
    stat: os.stat_result | None = None
    #: Why this is not a file to process: "fifo", "symbolic link", "cannot read folder: ...".
    problem: str | None = None
    #: True when `problem` is an error to report as a failure, not a reason to skip.
    fatal: bool = False


@dataclass(frozen=True)
class WalkRules:
    """What the walk takes: glob filters, depth, hidden files, symbolic links, pruned folders."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    hidden: bool = False
    follow_symlinks: bool = False
    #: Absolute paths of folders never walked, such as the output folders.
    prune: frozenset[str] = field(default_factory=frozenset)
    #: Leave out files with the temporary names of copiers (under --watch: not finished yet).
    skip_partial: bool = False

    def excludes(self, name: str, relpath: str) -> str | None:
        """The reason a file is filtered out, or None if the filters take it."""
        if self.include and not _matches(self.include, name, relpath):
            return "filtered (not matched by --include)"
        if self.exclude and _matches(self.exclude, name, relpath):
            return "filtered (matched by --exclude)"
        return None


def _matches(patterns: tuple[str, ...], name: str, relpath: str) -> bool:
    # A pattern with a slash matches the relative path, any other the bare name (like rsync).
    return any(
        fnmatch.fnmatchcase(relpath if "/" in pattern else name, pattern) for pattern in patterns
    )


def walk(paths: Iterable[str], rules: WalkRules) -> Iterator[list[Found]]:
    """Yield the files found under `paths`, one folder's files per list, depth first.

    Arguments that are files are yielded as they are; folders are walked with `os.scandir`.
    Nothing is read or opened beyond folder listings and `stat`.
    """
    seen_folders: set[tuple[int, int]] = set()
    for path in paths:
        try:
            info = os.stat(path)
        except OSError as error:
            yield [Found(path, "", os.path.basename(path), problem=_describe(error), fatal=True)]
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_root(path, info, rules, seen_folders)
        else:
            yield [_classify(path, "", os.path.basename(path), info)]


def walk_below(root: str, relfolder: str, rules: WalkRules) -> Iterator[list[Found]]:
    """Walk one folder of the tree of `root` (a folder that appeared while watching), with the
    paths, depths and rules the walk of `root` would have used."""
    folder = os.path.join(root, relfolder)
    try:
        info = os.stat(folder)
    except OSError:  # gone already
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk_root(root, info, rules, set(), (folder, relfolder, _depth(relfolder)))


def found_argument(path: str) -> Found:
    """What the walk says about a file named as an argument."""
    try:
        return _classify(path, "", os.path.basename(path), os.stat(path))
    except OSError as error:
        return Found(path, "", os.path.basename(path), problem=_describe(error), fatal=True)


def found_in_tree(root: str, relpath: str, rules: WalkRules) -> Found | None:
    """What the walk of `root` would say about the file at `relpath`, without walking: a Found,
    or None where the walk would not show it (hidden, pruned, excluded folder, too deep)."""
    relfolder, name = os.path.split(relpath)
    if not name or not folder_taken(root, relfolder, rules):
        return None
    folder = os.path.join(root, relfolder)
    files, _ = _sort_entries([_Entry(folder, name)], root, relfolder, _depth(relfolder), rules)
    return files[0] if files else None


def folder_taken(root: str, relfolder: str, rules: WalkRules) -> bool:
    """True if the walk of `root` would enter the folder at `relfolder` ("" is the root)."""
    parts = [part for part in relfolder.split("/") if part]
    if rules.max_depth is not None and len(parts) >= rules.max_depth:
        return False
    for index, name in enumerate(parts):
        relpath = "/".join(parts[:index + 1])
        if name == STATE_FOLDER or name.startswith(TEMP_PREFIX):
            return False
        if not rules.hidden and name.startswith("."):
            return False
        if rules.exclude and _matches(rules.exclude, name, relpath):
            return False
        if rules.prune and os.path.abspath(os.path.join(root, relpath)) in rules.prune:
            return False
    return True


def is_partial_name(name: str) -> bool:
    """True for the temporary name of a file still being copied or downloaded."""
    return name.lower().endswith(PARTIAL_SUFFIXES) or name.startswith(PARTIAL_PREFIXES)


def _depth(relfolder: str) -> int:
    return len([part for part in relfolder.split("/") if part])


class _Entry:
    """One name in a folder, looked at as os.scandir's entries are (for found_in_tree)."""

    __slots__ = ("name", "path")

    def __init__(self, folder: str, name: str) -> None:
        self.name, self.path = name, os.path.join(folder, name)

    def is_symlink(self) -> bool:
        return os.path.islink(self.path)

    def is_dir(self) -> bool:
        return os.path.isdir(self.path)

    def stat(self, follow_symlinks: bool = True) -> os.stat_result:
        return os.stat(self.path) if follow_symlinks else os.lstat(self.path)


def _walk_root(root, root_info, rules, seen_folders, start=None):
    stack = [start + (root_info,) if start else (root, "", 0, root_info)]
    while stack:
        folder, relfolder, depth, info = stack.pop()
        key = (info.st_dev, info.st_ino)
        if key in seen_folders:
            yield [Found(folder, root, relfolder, problem="folder already walked (a symbolic link loop or a repeated argument)")]
            continue
        seen_folders.add(key)
        try:
            with os.scandir(folder) as entries:
                entries = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            yield [Found(folder, root, relfolder, problem=f"cannot read folder: {_describe(error)}",
                         fatal=True)]
            continue
        files, subfolders = _sort_entries(entries, root, relfolder, depth, rules)
        if files:
            yield files
        stack.extend(reversed(subfolders))


def _sort_entries(entries, root, relfolder, depth, rules):
    files, subfolders = [], []
    for entry in entries:
        name = entry.name
        if name == STATE_FOLDER or name.startswith(TEMP_PREFIX):
            continue
        if not rules.hidden and name.startswith("."):
            continue
        if rules.skip_partial and is_partial_name(name) and not entry.is_dir():
            continue
        relpath = f"{relfolder}/{name}" if relfolder else name
        try:
            is_link = entry.is_symlink()
            if is_link and not rules.follow_symlinks:
                files.append(_symlink_found(entry, root, relpath))
                continue
            info = entry.stat(follow_symlinks=True)
        except OSError as error:
            files.append(_symlink_found(entry, root, relpath) if is_link else
                         Found(entry.path, root, relpath, problem=_describe(error), fatal=True))
            continue
        if stat.S_ISDIR(info.st_mode):
            if os.path.abspath(entry.path) in rules.prune:
                continue
            if rules.exclude and _matches(rules.exclude, name, relpath):
                continue
            if rules.max_depth is None or depth + 1 < rules.max_depth:
                subfolders.append((entry.path, relpath, depth + 1, info))
            continue
        found = _classify(entry.path, root, relpath, info)
        if found.problem is None:
            found.problem = rules.excludes(name, relpath)
        files.append(found)
    return files, subfolders


def _symlink_found(entry, root, relpath):
    try:
        os.stat(entry.path)
    except OSError:
        return Found(entry.path, root, relpath, problem="dangling symbolic link")
    return Found(entry.path, root, relpath, problem="symbolic link (use --follow-symlinks)")


def _classify(path, root, relpath, info):
    if stat.S_ISREG(info.st_mode):
        return Found(path, root, relpath, stat=info)
    kind = (
        "fifo" if stat.S_ISFIFO(info.st_mode)
        else "socket" if stat.S_ISSOCK(info.st_mode)
        else "device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
        else "folder" if stat.S_ISDIR(info.st_mode)
        else "special file"
    )
    return Found(path, root, relpath, stat=info, problem=f"not a regular file ({kind})")


def _describe(error: OSError) -> str:
    return error.strerror or str(error)
