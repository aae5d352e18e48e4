"""exec and hostile file names: whatever a name holds, it reaches the command as one argument
(argv mode) or one quoted word (--shell), nothing is injected, and every output is what the
command makes by hand."""

import os
import subprocess

import pytest

NAMES = [
    b"with space.txt",
    b"quote'single.txt",
    b'quote"double.txt',
    b"$(touch INJECTED).txt",
    b"`touch INJECTED`.txt",
    b"semi;touch INJECTED;.txt",
    b"-n.txt",
    b"--help.txt",
    b"new\nline.txt",
    b"not-utf8-\xe9\xff.txt",
    b"glob*?[a].txt",
    b"braces{}{.}{out}.txt",
    b"tab\tand back\\slash.txt",
    b"no extension",
]
PLACEHOLDERS = "{} {.} {/} {//} {/.}"


@pytest.fixture
def hostile(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in NAMES:
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(b"content of " + name + b"\n")
    return folder


def expected_values(path: bytes) -> list[bytes]:
    """What {} {.} {/} {//} {/.} stand for: GNU parallel's meanings, never starting with '-'."""
    folder, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    safe = lambda p: b"./" + p if p.startswith(b"-") else p  # noqa: E731
    return [safe(path), safe(os.path.join(folder, stem)), name, safe(folder or b"."), stem]


def injected(tmp_path) -> list[str]:
    return [str(p) for p in tmp_path.rglob("INJECTED*")]


@pytest.mark.parametrize("shell", [False, True], ids=["argv", "shell"])
def test_placeholders_reach_the_command_whole_and_nothing_is_injected(cli, hostile, tmp_path, shell):
    # printf prints each argument on its own line, NUL-terminated: the exact bytes it was given.
    command = f"printf '%s\\0' {PLACEHOLDERS}"
    result = cli("exec", hostile, "--stdout", "--cmd", command, *(["--shell"] if shell else []))
    assert result.exit_code == 0, result
    assert result.stderr.startswith(f"exec: {len(NAMES)} ok")
    out = os.fsencode(tmp_path / "in_exec")
    for name in NAMES:
        with open(os.path.join(out, name), "rb") as handle:
            printed = handle.read().split(b"\0")[:-1]
        assert printed == expected_values(os.path.join(os.fsencode(hostile), name)), name
    assert injected(tmp_path) == []


@pytest.mark.parametrize("shell", [False, True], ids=["argv", "shell"])
def test_outputs_are_byte_identical_to_the_command_run_by_hand(cli, hostile, tmp_path, shell):
    command = "gzip -c -n {} > {out}" if shell else "sh -c 'exec gzip -c -n -- \"$0\" > \"$1\"' {} {out}"
    result = cli("exec", hostile, "--cmd", command, "--ext", ".gz", *(["--shell"] if shell else []))
    assert result.exit_code == 0, result
    out = os.fsencode(tmp_path / "in_exec")
    for name in NAMES:
        by_hand = subprocess.run([b"gzip", b"-c", b"-n", b"--", os.path.join(os.fsencode(hostile), name)],
                                 capture_output=True, check=True).stdout
        with open(os.path.join(out, os.path.splitext(name)[0] + b".gz"), "rb") as handle:
            assert handle.read() == by_hand, name
    assert injected(tmp_path) == []


def test_a_path_given_with_a_leading_dash_is_never_an_option(cli, hostile, tmp_path, monkeypatch):
    monkeypatch.chdir(hostile)
    (tmp_path / "list").write_bytes(b"-n.txt\0--help.txt\0")
    result = cli("exec", "--files-from", tmp_path / "list", "-0", "--out", tmp_path / "o", "--stdout",
                 "--cmd", f"printf '%s\\0' {PLACEHOLDERS}")
    assert result.exit_code == 0, result
    assert (tmp_path / "o/-n.txt").read_bytes() == b"./-n.txt\0./-n\0-n.txt\0.\0-n\0"
    assert (tmp_path / "o/--help.txt").read_bytes() == b"./--help.txt\0./--help\0--help.txt\0.\0--help\0"
    dry = cli("exec", "--files-from", tmp_path / "list", "-0", "--out", tmp_path / "o", "--dry-run",
              "--force", "--cmd", "cp {} {out}")
    assert dry.stdout.splitlines() == [f"run cp ./-n.txt {tmp_path}/o/-n.txt",
                                       f"run cp ./--help.txt {tmp_path}/o/--help.txt"]


def test_dry_run_quotes_hostile_names_so_a_shell_runs_the_same_command(batchproc_process, hostile, tmp_path):
    result = batchproc_process("exec", hostile, "--dry-run", "--no-output", "--cmd", "printf %s {/}")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.split(b"\nrun ")
    assert len(lines) == len(NAMES)
    printed = set()
    for line in lines:
        command = line.removeprefix(b"run ").rstrip(b"\n")
        printed.add(subprocess.run([b"sh", b"-c", command], capture_output=True, check=True).stdout)
    assert printed == set(NAMES)
    assert injected(tmp_path) == []
