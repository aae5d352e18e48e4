"""The command line: exit codes, one-line errors, help, version, the progress bar's place."""

import subprocess
import sys

import pytest

import batchproc
from batchproc.errors import ExitCode
from images import write_tree


def test_exit_codes_are_one_documented_enum():
    assert [(code.name, code.value) for code in ExitCode] == [
        ("OK", 0), ("FILES_FAILED", 1), ("USAGE", 2), ("FAILURE_BUDGET", 3), ("ABORTED", 4),
        ("LOCKED", 75), ("INTERRUPTED", 130), ("BROKEN_PIPE", 141), ("TERMINATED", 143)]


@pytest.mark.parametrize("args, message", [
    (["resize", "no-such-folder"], "Error: no such file or folder: no-such-folder"),
    (["resize", ".", "--size", "12xx"], "Error: bad --size '12xx'"),
    (["resize", ".", "--size", "10x10", "--max", "5"], "Error: give only one of --size, --max"),
    (["resize", ".", "--bogus"], "Error: No such option"),
    (["resize", ".", "--quality", "101"], "Error: Invalid value for '--quality'"),
    (["resize", ".", "--out", "x", "--in-place"], "Error: --out and --in-place cannot be used together"),
    (["nosuchstep"], "Error: No such command 'nosuchstep'"),
])
def test_bad_usage_is_one_error_line_and_exit_2(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_bare_batchproc_shows_the_help_on_stderr_as_a_usage_error(cli):
    result = cli()
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Usage: batchproc [OPTIONS] COMMAND [ARGS]...")
    assert "resize" in result.stderr and "Error" not in result.stderr
    assert result.stdout == ""


def test_all_ok_is_0_and_some_failed_is_1(cli, tmp_path):
    write_tree(tmp_path / "good", {"a.jpg": (64, 48)})
    assert cli("resize", tmp_path / "good", "--jobs", 1).exit_code == ExitCode.OK
    (tmp_path / "good/b.jpg").write_bytes(b"junk")
    assert cli("resize", tmp_path / "good", "--jobs", 1).exit_code == ExitCode.FILES_FAILED


def test_an_empty_folder_is_fine(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("resize", tmp_path / "empty")
    assert result.exit_code == 0 and "resize: 0 ok, 0 skipped, 0 failed" in result.stderr


def test_version_lists_the_engines_present(cli):
    import PIL

    lines = cli("--version").stdout.splitlines()
    assert lines[0] == f"batchproc {batchproc.__version__}"
    assert lines[1].startswith(f"engines: Pillow {PIL.__version__}, ")
    try:
        import pyvips
    except (ImportError, OSError):
        assert "libvips: not installed (pip install 'batchproc[vips]'" in lines[1]
    else:
        assert f"(pyvips {pyvips.__version__})" in lines[1]


def test_help(cli):
    help_text = cli("resize", "--help").stdout
    assert "Example: batchproc resize ./imgs" in help_text and "--size" in help_text


def test_progress_bar_only_when_asked_or_on_a_terminal(cli, tmp_path):
    write_tree(tmp_path / "in", {f"{i}.jpg": (64, 48) for i in range(3)})
    quiet = cli("resize", tmp_path / "in", "--out", tmp_path / "a", "--jobs", 1)
    assert "file/s" not in quiet.stderr and "|" not in quiet.stderr  # not a terminal: no bar
    shown = cli("resize", tmp_path / "in", "--out", tmp_path / "b", "--jobs", 1, "--progress")
    assert "file/s" in shown.stderr and "3/3" in shown.stderr
    assert shown.stdout == ""  # the bar lives on stderr


def test_python_dash_m_works(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "batchproc", "--version"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and completed.stdout.startswith("batchproc ")


@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")  # a terminal needs pty.fork
def test_a_pillow_only_install_says_once_on_a_terminal_how_to_get_the_fast_engine(tmp_path):
    """In a pseudo-terminal, as a person would see it; never in a pipe."""
    import os
    import pty

    script = ("import sys; from batchproc_plugins import vips_resize; vips_resize.available = lambda: False; "
              "from batchproc.cli import run; sys.exit(run(sys.argv[1:]))")
    write_tree(tmp_path / "in", {"a.jpg": (64, 48)})

    def on_a_terminal(*args):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.executable, [sys.executable, "-c", script, *map(str, args)])
        output = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        os.waitpid(pid, 0)
        return output.decode(errors="replace")

    first = on_a_terminal("resize", tmp_path / "in", "--out", tmp_path / "a", "--jobs", 1)
    assert first.count("pip install 'batchproc[vips]'") == 1
    second = on_a_terminal("resize", tmp_path / "in", "--out", tmp_path / "b", "--jobs", 1)
    assert "batchproc[vips]" not in second
    piped = subprocess.run([sys.executable, "-c", script, "resize", str(tmp_path / "in"), "--out",
                            str(tmp_path / "c"), "--jobs", "1"], capture_output=True, text=True)
    assert piped.returncode == 0 and "batchproc[vips]" not in piped.stderr
