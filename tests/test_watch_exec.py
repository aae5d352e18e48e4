"""exec --watch: any command on each file as it arrives, with the same guarantees."""

import gzip
import os
import shutil
import subprocess

import pytest

from watching import age

pytest.importorskip("watchdog")

SETTLE = "0.3"


@pytest.mark.skipif(not shutil.which("gzip"), reason="needs gzip")
def test_exec_in_place_takes_arrivals_and_never_its_own_outputs(watch, cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in/old.txt").write_text("old\n" * 50)
    age(tmp_path / "in/old.txt")
    run = watch("exec", "in", "--in-place", "--ext", ".gz", "--stdout", "--cmd", "gzip -n -c {}", "--watch",
                "--settle", SETTLE, "--json", "--log", "log.jsonl")
    assert run.record()["input"] == "in/old.txt"
    (tmp_path / "in/sub").mkdir()
    (tmp_path / "in/sub/new name; $(x).txt").write_text("new\n" * 50)
    record = run.record()
    assert (record["status"], record["output"]) == ("ok", "in/sub/new name; $(x).gz")
    by_hand = subprocess.run(["gzip", "-n", "-c", tmp_path / "in/sub/new name; $(x).txt"], capture_output=True).stdout
    assert (tmp_path / "in/sub/new name; $(x).gz").read_bytes() == by_hand
    assert gzip.decompress(by_hand) == b"new\n" * 50
    run.lines("ok: ", 2)
    assert run.quiet_for(1.0 + float(SETTLE)) == []  # its outputs arriving in the tree: nothing
    assert run.stop() == 130
    assert len(run.records) == 2
    again = cli("exec", tmp_path / "in", "--in-place", "--ext", ".gz", "--stdout", "--cmd", "gzip -n -c {}",
                "--json")
    assert again.exit_code == 0
    assert again.stderr.startswith("exec: 0 ok, 4 skipped (2 written by exec, 2 up to date)")


def test_a_command_the_shell_cannot_find_ends_the_watch_with_exit_4(watch, tmp_path):
    (tmp_path / "in").mkdir()
    run = watch("exec", "in", "--shell", "--stdout", "--cmd", "no-such-program-here {}", "--watch",
                "--settle", SETTLE)
    (tmp_path / "in/a.txt").write_text("a")
    assert run.process.wait(30) == 4  # no later file could succeed either
    run.stop()
    assert run.errors[-1].endswith("stopped: the shell could not find the command (exit status 127)")
    assert os.listdir(tmp_path / "in") == ["a.txt"]
