"""Shell pipelines, through real processes and real pipes: lists in, records out, quiet edges."""

import json
import os
import subprocess
import sys

import pytest

from images import write_tree


@pytest.fixture
def tree(tmp_path):
    write_tree(tmp_path / "in", {"a.jpg": (80, 60), "sub/b.jpg": (80, 60), "sub/c.png": (80, 60)})
    (tmp_path / "in/notes.txt").write_text("not an image")
    return tmp_path / "in"


def test_nul_separated_paths_from_find(tree, tmp_path, batchproc_process):
    listing = subprocess.run(["find", "in", "-name", "*.jpg", "-print0"], cwd=tmp_path,
                             capture_output=True, check=True).stdout
    result = batchproc_process("resize", "-", "-0", "--out", "thumbs", "--width", 40, "--jobs", 2,
                               input=listing, cwd=tmp_path)
    assert result.exit_code == 0, result
    assert result.stdout == b""
    assert sorted(str(p.relative_to(tmp_path / "thumbs")) for p in (tmp_path / "thumbs").rglob("*.jpg")) == [
        "in/a.jpg", "in/sub/b.jpg"]


def test_newline_separated_paths_and_files_from(tree, tmp_path, batchproc_process):
    result = batchproc_process("resize", "-", "--out", "o1", "--width", 40, "--jobs", 1,
                               input=b"in/a.jpg\nin/sub/c.png\n", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "o1").rglob("*.*g")) == ["a.jpg", "c.png"]
    (tmp_path / "list.txt").write_text("in/sub/b.jpg\n")
    result = batchproc_process("resize", "--files-from", "list.txt", "--out", "o2", "--jobs", 1, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (tmp_path / "o2").rglob("*.jpg")] == ["b.jpg"]


def test_json_lines_on_stdout_and_nothing_else(tree, tmp_path, batchproc_process):
    result = batchproc_process("resize", tree, "--out", tmp_path / "out", "--width", 40, "--json", "--jobs", 2)
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    by_name = {os.path.basename(r["input"]): r for r in records}
    assert set(by_name) == {"a.jpg", "b.jpg", "c.png", "notes.txt"}
    assert (by_name["a.jpg"]["width"], by_name["a.jpg"]["height"]) == (40, 30)
    assert by_name["a.jpg"]["bytes_out"] == (tmp_path / "out/a.jpg").stat().st_size
    assert by_name["notes.txt"]["status"] == "skipped"
    assert b"resize: 3 ok" in result.stderr and b"\r" not in result.stderr  # no bar without a terminal


def test_print0_prints_output_paths(tree, tmp_path, batchproc_process):
    result = batchproc_process("resize", tree, "--out", tmp_path / "out", "--print0", "--jobs", 2)
    assert result.exit_code == 0
    assert sorted(result.stdout.split(b"\0")[:-1]) == sorted(
        os.fsencode(tmp_path / "out" / name) for name in ["a.jpg", "sub/b.jpg", "sub/c.png"])


def test_dry_run_lists_and_touches_nothing(tree, tmp_path, batchproc_process):
    first = batchproc_process("resize", tree, "--out", tmp_path / "out", "--jobs", 1)
    assert first.exit_code == 0
    write_tree(tree, {"new.jpg": (80, 60)})
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    result = batchproc_process("resize", tree, "--out", tmp_path / "out", "--dry-run", "--log", tmp_path / "log")
    assert result.exit_code == 0
    lines = sorted(result.stdout.decode().splitlines())
    assert lines == sorted([
        f"process {tree / 'new.jpg'} -> {tmp_path / 'out/new.jpg'}",
        f"skip {tree / 'a.jpg'} (up to date)",
        f"skip {tree / 'sub/b.jpg'} (up to date)",
        f"skip {tree / 'sub/c.png'} (up to date)",
        f"skip {tree / 'notes.txt'} (not an image (.txt))",
    ])
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before  # nothing written
    assert b"resize (dry run): 1 to process, 4 skipped" in result.stderr


def test_head_closing_stdout_ends_quietly(tmp_path):
    write_tree(tmp_path / "in", {f"{i:02}.jpg": (64, 48) for i in range(60)})
    script = (f"{sys.executable} -m batchproc resize in --out out --json --jobs 2 | head -n 1; "
              "echo \"status=${PIPESTATUS[0]}\" >&2")
    completed = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, timeout=60)
    assert len(completed.stdout.splitlines()) == 1
    assert b"status=141" in completed.stderr
    assert b"Traceback" not in completed.stderr and b"Error" not in completed.stderr


def test_quiet_says_nothing_unless_something_failed(tree, tmp_path, batchproc_process):
    quiet = batchproc_process("resize", tree, "--out", tmp_path / "a", "--quiet", "--jobs", 1)
    assert quiet.exit_code == 0 and quiet.stderr == b"" and quiet.stdout == b""
    (tree / "broken.jpg").write_bytes(b"junk")
    failing = batchproc_process("resize", tree, "--out", tmp_path / "b", "--quiet", "--jobs", 1)
    assert failing.exit_code == 1
    assert b"broken.jpg: not a readable image" in failing.stderr and b"1 failed" in failing.stderr


def test_no_color_even_with_a_forced_bar(tree, tmp_path, batchproc_process):
    result = batchproc_process("resize", tree, "--out", tmp_path / "o", "--progress", "--jobs", 1,
                               env={"NO_COLOR": "1"})
    assert result.exit_code == 0 and b"\x1b[" not in result.stderr and b"\x1b[" not in result.stdout
