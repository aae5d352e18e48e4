"""Checksum manifests exactly as GNU sha256sum, sha1sum, md5sum and b2sum write and check them."""

from __future__ import annotations

import os
import re

from batchproc.errors import UsageError

#: Hex digits of each algorithm's digest (b2sum's default is BLAKE2b-512).
DIGEST_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32, "blake2b": 128}
#: The names `--tag` (BSD-style) lines use.
TAGS = {"SHA256": "sha256", "SHA1": "sha1", "MD5": "md5", "BLAKE2b": "blake2b"}
_LINE = re.compile(r"(?P<digest>[0-9a-fA-F]+) [ *](?P<name>.+)", re.DOTALL)
_TAG_LINE = re.compile(r"(?P<tag>[A-Za-z0-9]+) \((?P<name>.+)\) = (?P<digest>[0-9a-fA-F]+)", re.DOTALL)
_ESCAPES = {"\\\\": "\\", "\\n": "\n", "\\r": "\r"}


def escape(name: str) -> str:
    """coreutils' escaping of a file name: backslash, newline and carriage return."""
    return name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def manifest_line(digest: str, name: str) -> str:
    """`DIGEST  NAME`; a name holding a backslash, newline or CR is escaped and the line starts
    with a backslash (as coreutils 9 writes it: an unescaped trailing CR would be lost)."""
    if "\\" in name or "\n" in name or "\r" in name:
        return f"\\{digest}  {escape(name)}"
    return f"{digest}  {name}"


def check_line(name: str, verdict: str) -> str:
    """`NAME: OK` as `sha256sum -c` prints it: escaped (and marked) only if the name has a newline."""
    if "\n" in name:
        return f"\\{escape(name)}: {verdict}"
    return f"{name}: {verdict}"


def read_manifest(path: str, algorithm: str) -> dict[str, str]:
    """{file name: expected lower-case digest} from a manifest in GNU or BSD (--tag) format.

    Names are decoded like the file system's (undecodable bytes survive); a line that is not a
    checksum line of `algorithm` is a usage error naming the line, rather than a silent skip."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise UsageError(f"cannot read --check manifest {path}: {error.strerror}") from None
    expected: dict[str, str] = {}
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = os.fsdecode(raw[:-1] if raw.endswith(b"\r") else raw)  # CRLF files too
        if not line.strip():
            continue
        name, digest = _parse(line, algorithm, path, number)
        expected[name] = digest.lower()
    if not expected:
        raise UsageError(f"--check manifest {path} lists no files")
    return expected


def _parse(line: str, algorithm: str, path: str, number: int) -> tuple[str, str]:
    escaped = line.startswith("\\")
    body = line[1:] if escaped else line
    match = _TAG_LINE.fullmatch(body)
    if match and TAGS.get(match["tag"]) not in (None, algorithm):
        raise UsageError(f"{path} line {number} is a {TAGS[match['tag']]} checksum: use "
                         f"--algorithm {TAGS[match['tag']]}")
    match = match if match and match["tag"] in TAGS else _LINE.fullmatch(body)
    if match is None:
        raise UsageError(f"{path} line {number} is not a checksum line")
    digest, name = match["digest"], match["name"]
    if len(digest) != DIGEST_LENGTHS[algorithm]:
        guess = [a for a, n in DIGEST_LENGTHS.items() if n == len(digest)]
        hint = f": use --algorithm {guess[0]}" if guess else ""
        raise UsageError(f"{path} line {number} does not hold a {algorithm} digest{hint}")
    if escaped:
        name = _unescape(name, path, number)
    return name, digest


def _unescape(name: str, path: str, number: int) -> str:
    def replace(match):
        try:
            return _ESCAPES[match[0]]
        except KeyError:
            raise UsageError(f"{path} line {number}: unknown escape {match[0]!r} in the name") from None

    return re.sub(r"\\.?", replace, name, flags=re.DOTALL)
