"""batchproc exec: any command on every file, with real commands (coreutils, gzip, sh, python).

Modes and naming, failures and what their records hold, incremental runs, --check, --dry-run,
job files. Hostile file names: test_exec_names.py; timeouts, signals, memory and leftover
processes: test_exec_processes.py; Dask: test_exec_dask.py.
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import file_records, write_files

TEXT = {"a.txt": "alpha\n", "b.txt": "beta needle\n", "sub/c.log": "gamma needle\n"}


@pytest.fixture
def notes(tmp_path):
    for name, text in TEXT.items():
        (tmp_path / "notes" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "notes" / name).write_text(text)
    return tmp_path / "notes"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, hidden ones (temporaries) included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def records(stdout: str) -> dict[str, dict]:
    return {Path(r["input"]).name: r for r in map(json.loads, stdout.splitlines())}


# Modes.

def test_stdout_mode_writes_a_mirrored_tree_named_by_template(cli, notes, tmp_path):
    result = cli("exec", notes, "--stdout", "--cmd", "gzip -c -n {}", "--name", "{/}.gz", "--jobs", 2)
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert result.stderr.startswith("exec: 3 ok, 0 skipped, 0 failed")
    out = tmp_path / "notes_exec"
    assert sorted(tree(out)) == ["a.txt.gz", "b.txt.gz", "sub/c.log.gz"]
    for name, text in TEXT.items():
        made = (out / f"{name}.gz").read_bytes()
        assert made == subprocess.run(["gzip", "-c", "-n", notes / name], capture_output=True).stdout
        assert gzip.decompress(made).decode() == text


def test_out_placeholder_is_a_temporary_beside_the_output_with_its_extension(cli, notes, tmp_path):
    result = cli("exec", notes, "--out", tmp_path / "web", "--ext", ".html", "--json",
                 "--cmd", "sh -c 'echo \"$1\" > \"$1\"' sh {out}")
    assert result.exit_code == 0, result
    written = (tmp_path / "web/sub/c.html").read_text().strip()
    assert os.path.dirname(written) == str(tmp_path / "web/sub")
    assert os.path.basename(written).startswith(".batchproc-") and written.endswith("-c.html")
    assert sorted(tree(tmp_path / "web")) == ["a.html", "b.html", "sub/c.html"]  # no temporary left


def test_stdin_mode_gives_the_file_as_stdin(cli, notes, tmp_path):
    result = cli("exec", notes, "--stdin", "--stdout", "--cmd", "tr a-z A-Z")
    assert result.exit_code == 0, result
    assert tree(tmp_path / "notes_exec") == {name: text.upper().encode() for name, text in TEXT.items()}


def test_stdin_is_dev_null_otherwise(cli, notes, tmp_path):
    # `cat` reads stdin: were it a terminal or batchproc's own stdin, it would hang or eat it.
    result = cli("exec", notes, "--stdout", "--cmd", "sh -c 'cat; echo $0' {/.}")
    assert result.exit_code == 0, result
    assert (tmp_path / "notes_exec/sub/c.log").read_text() == "c\n"


def test_no_output_mode_lets_the_exit_status_decide_and_records_stdout(cli, notes, tmp_path):
    result = cli("exec", notes, "--no-output", "--cmd", "grep -c needle", "--json")
    assert result.exit_code == 1
    by_name = records(result.stdout)
    assert {name: r["status"] for name, r in by_name.items()} == {"a.txt": "failed", "b.txt": "ok", "c.log": "ok"}
    assert by_name["b.txt"]["stdout"] == "1" and by_name["b.txt"]["exit_status"] == 0
    assert by_name["a.txt"]["stdout"] == "0" and by_name["a.txt"]["exit_status"] == 1
    assert by_name["a.txt"]["error"] == "exit status 1: 0" and by_name["a.txt"]["output"] is None
    assert f"failed: {notes / 'a.txt'}: exit status 1: 0" in result.stderr  # stdout, stderr empty
    assert not (tmp_path / "notes_exec").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # nothing written anywhere


def test_a_template_without_input_placeholder_gets_the_path_last(cli, notes, tmp_path):
    result = cli("exec", notes, "--no-output", "--cmd", "echo first", "--json")
    assert result.exit_code == 0, result
    assert records(result.stdout)["a.txt"]["stdout"] == f"first {notes / 'a.txt'}"
    result = cli("exec", notes, "--no-output", "--cmd", "echo {/} only", "--json", "--force")
    assert records(result.stdout)["a.txt"]["stdout"] == "a.txt only"


@pytest.mark.parametrize("args, message", [
    ([], "Error: exec needs --cmd TEMPLATE"),
    (["--cmd", "gzip -c {}"], "Error: the command must write its output to {out}"),
    (["--cmd", "gzip -c {} > {out}", "--stdout"], "Error: --stdout makes the command's stdout the output"),
    (["--cmd", "cp {} {out}", "--no-output"], "Error: --no-output keeps nothing: {out} cannot"),
    (["--cmd", "true", "--no-output", "--ext", ".x"], "Error: --no-output keeps nothing: --ext cannot"),
    (["--cmd", "cp {} {out}", "--ext", ".a", "--name", "{/}.b"], "Error: give --ext or --name, not both"),
    (["--cmd", "cp {} {out}", "--name", "sub/{/}"], "Error: --name 'sub/{/}': a file name, without folders"),
    (["--cmd", "cp {} {out}", "--name", "{}.x"], "Error: --name '{}.x': only {/} and {/.} name an output"),
    (["--cmd", "cp '{} {out}"], "Error: --cmd \"cp '{} {out}\": No closing quotation"),
    (["--cmd", "no-such-program-for-batchproc {} {out}"],
     "Error: --cmd: command not found: no-such-program-for-batchproc"),
    (["--cmd", "cp {} {out}", "--check", "no-such-checker-for-batchproc"],
     "Error: --check: command not found: no-such-checker-for-batchproc"),
])
def test_usage_errors_are_one_line_exit_2_and_nothing_made(cli, notes, tmp_path, args, message):
    result = cli("exec", notes, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "notes_exec").exists()  # checked before any output folder is made


def test_a_missing_program_is_found_before_a_dry_run_too(cli, notes, tmp_path):
    result = cli("exec", notes, "--dry-run", "--cmd", "no-such-program-for-batchproc {} {out}")
    assert result.exit_code == 2
    assert result.stdout == ""


# Failures.

def test_a_command_that_writes_half_an_output_and_fails_leaves_nothing(cli, notes, tmp_path):
    result = cli("exec", notes, "--shell", "--log", tmp_path / "log", "--cmd",
                 "head -c 3 {} > {out}; echo 'broken: {out}' >&2; exit 3")
    assert result.exit_code == 1
    assert tree(tmp_path / "notes_exec") == {}  # no output, no temporary
    failure = file_records(tmp_path / "log")[0]
    output = failure["output"]
    assert failure["status"] == "failed" and failure["exit_status"] == 3
    # The record names the real output path, never the temporary the command was given.
    assert failure["error"] == f"exit status 3: broken: {output}"
    assert failure["stderr"] == f"broken: {output}"
    assert ".batchproc-" not in result.stderr


def test_stdout_mode_failure_leaves_nothing_either(cli, notes, tmp_path):
    result = cli("exec", notes, "--stdout", "--cmd", "sh -c 'head -c 2 \"$0\"; kill -KILL $$' {}")
    assert result.exit_code == 1
    assert f"failed: {notes / 'a.txt'}: killed by SIGKILL" in result.stderr
    assert tree(tmp_path / "notes_exec") == {}


def test_the_record_keeps_the_last_lines_of_stderr(cli, notes, tmp_path):
    script = "import sys\nfor i in range(50): print('line', i, file=sys.stderr)\nsys.exit(2)\n"
    (tmp_path / "noisy.py").write_text(script)
    result = cli("exec", notes, "--no-output", "--json", "--cmd", f"{sys.executable} {tmp_path / 'noisy.py'}")
    assert result.exit_code == 1
    record = records(result.stdout)["a.txt"]
    assert record["stderr"].splitlines() == [f"line {i}" for i in range(40, 50)]
    assert record["error"] == "exit status 2: line 49"
    assert "line 48" not in result.stderr  # the terminal gets one line per failure


def test_show_stderr_prefixes_every_line_with_the_file(cli, notes, tmp_path):
    command = ["--no-output", "--shell", "--cmd", "echo said {/} >&2; echo twice >&2"]
    quiet = cli("exec", notes, *command)
    assert quiet.exit_code == 0 and "said" not in quiet.stderr
    shown = cli("exec", notes, *command, "--show-stderr", "--force")
    assert shown.exit_code == 0
    assert f"{notes / 'sub/c.log'}: said c.log\n{notes / 'sub/c.log'}: twice\n" in shown.stderr
    assert shown.stdout == ""


def test_empty_outputs_are_refused_unless_allowed(cli, notes, tmp_path):
    refused = cli("exec", notes, "--shell", "--cmd", ": > {out}")
    assert refused.exit_code == 1
    assert "the command wrote an empty output (--allow-empty publishes it)" in refused.stderr
    assert tree(tmp_path / "notes_exec") == {}
    allowed = cli("exec", notes, "--shell", "--cmd", ": > {out}", "--allow-empty")
    assert allowed.exit_code == 0
    assert tree(tmp_path / "notes_exec") == {"a.txt": b"", "b.txt": b"", "sub/c.log": b""}


def test_an_output_never_written_fails_the_file(cli, notes, tmp_path):
    result = cli("exec", notes, "--cmd", "true {out}")
    assert result.exit_code == 1
    assert "the command exited 0 but wrote no output (it must write {out})" in result.stderr


def test_check_must_pass_before_an_output_is_published(cli, notes, tmp_path):
    good = cli("exec", notes, "--stdout", "--name", "{/}.gz", "--cmd", "gzip -c {}", "--check", "gzip -t {out}")
    assert good.exit_code == 0, good
    assert len(tree(tmp_path / "notes_exec")) == 3
    bad = cli("exec", notes, "--out", tmp_path / "bad", "--stdout", "--name", "{/}.gz", "--cmd", "cat {}",
              "--check", "gzip -t")
    assert bad.exit_code == 1
    assert f"failed: {notes / 'a.txt'}: output did not read back: --check: exit status 1: " in bad.stderr
    assert "not in gzip format" in bad.stderr
    assert tree(tmp_path / "bad") == {}


# Incremental, resume, fingerprint.

def test_unchanged_reruns_run_no_command_and_a_changed_command_redoes_all(cli, notes, tmp_path):
    counter = tmp_path / "runs"

    def run(command, *more):
        return cli("exec", notes, "--shell", "--cmd", f"echo ran >> {counter}; {command}", *more)

    assert run("cp {} {out}").exit_code == 0
    assert counter.read_text().count("ran") == 3
    again = run("cp {} {out}")
    assert again.exit_code == 0 and again.stderr.startswith("exec: 0 ok, 3 skipped (3 up to date)")
    assert counter.read_text().count("ran") == 3
    assert run("cat {} > {out}").exit_code == 0  # another command: every file again
    assert counter.read_text().count("ran") == 6
    assert run("cat {} > {out}", "--show-stderr").stderr.startswith("exec: 0 ok, 3 skipped")  # shown, not made
    assert counter.read_text().count("ran") == 6


def test_no_output_runs_are_incremental_too(cli, notes, tmp_path):
    counter = tmp_path / "runs"
    command = ["--no-output", "--shell", "--cmd", f"echo ran >> {counter}; grep -q needle {{}}"]
    assert cli("exec", notes, *command).exit_code == 1  # a.txt has no needle
    assert counter.read_text().count("ran") == 3
    again = cli("exec", notes, *command)
    assert "exec: 0 ok, 2 skipped (2 up to date), 1 failed" in again.stderr  # the failure is tried again
    assert counter.read_text().count("ran") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "runs"]


def test_cmd_version_output_joins_the_fingerprint(cli, notes, tmp_path):
    version = tmp_path / "version"
    version.write_text("tool 1.0\n")
    command = ["--stdout", "--cmd", "cat {}", "--cmd-version", f"cat {version}"]
    assert cli("exec", notes, *command).stderr.startswith("exec: 3 ok")
    assert cli("exec", notes, *command).stderr.startswith("exec: 0 ok, 3 skipped (3 up to date)")
    version.write_text("tool 1.1\n")  # the tool was upgraded
    assert cli("exec", notes, *command).stderr.startswith("exec: 3 ok")
    broken = cli("exec", notes, "--stdout", "--cmd", "cat {}", "--cmd-version", "false")
    assert broken.exit_code == 2
    assert broken.stderr == "Error: --cmd-version 'false' exited with status 1\n"


def test_retries_and_the_failure_budget_apply(cli, notes, tmp_path):
    flaky = "test -e {}.seen || { touch {}.seen; exit 1; }; cp {} {out}"
    assert cli("exec", notes, "--shell", "--cmd", flaky).exit_code == 1
    assert cli("exec", notes, "--retry-failed", "--shell", "--cmd", flaky).exit_code == 0
    budget = cli("exec", notes, "--out", tmp_path / "o", "--jobs", 1, "--max-failures", 1,
                 "--cmd", "false {out}")
    assert budget.exit_code == 3


# In place: outputs are never inputs.

def test_in_place_outputs_with_a_new_extension_are_never_taken_as_inputs(cli, notes, tmp_path):
    command = ["--in-place", "--stdout", "--ext", ".gz", "--cmd", "gzip -c -n {}"]
    first = cli("exec", notes, *command)
    assert first.exit_code == 0, first
    assert sorted(tree(notes)) == ["a.gz", "a.txt", "b.gz", "b.txt", "sub/c.gz", "sub/c.log"]
    for stem in ("a", "b", "sub/c"):
        assert gzip.decompress((notes / f"{stem}.gz").read_bytes()).decode() in TEXT.values()
    for again in (cli("exec", notes, *command), cli("exec", notes, *command, "--force")):
        assert again.exit_code == 0, again
        assert "3 written by exec" in again.stderr  # a.gz is a.txt's output, not an input
        assert sorted(tree(notes)) == ["a.gz", "a.txt", "b.gz", "b.txt", "sub/c.gz", "sub/c.log"]


def test_in_place_with_the_same_name_replaces_atomically_keeping_permissions(cli, notes, tmp_path):
    os.chmod(notes / "a.txt", 0o600)
    result = cli("exec", notes, "--in-place", "--stdin", "--stdout", "--cmd", "tr a-z A-Z")
    assert result.exit_code == 0, result
    assert (notes / "a.txt").read_text() == "ALPHA\n"
    assert oct((notes / "a.txt").stat().st_mode & 0o777) == oct(0o600)
    again = cli("exec", notes, "--in-place", "--stdin", "--stdout", "--cmd", "tr a-z A-Z")
    assert again.stderr.startswith("exec: 0 ok, 3 skipped (3 up to date)")


# Where else a step goes: --dry-run, --print0, --log, job files.

def test_dry_run_prints_each_command_quoted_and_touches_nothing(cli, tmp_path):
    write_files(tmp_path / "in", {"a b.txt": "x", "plain.txt": "y"})
    result = cli("exec", tmp_path / "in", "--out", tmp_path / "o", "--dry-run", "--stdout", "--ext", ".gz",
                 "--cmd", "gzip -c {}")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"run gzip -c '{tmp_path}/in/a b.txt' > '{tmp_path}/o/a b.gz'",
        f"run gzip -c {tmp_path}/in/plain.txt > {tmp_path}/o/plain.gz",
    ]
    shell = cli("exec", tmp_path / "in", "--dry-run", "--shell", "--cmd", "convert {} - | cwebp -o {out} -- -")
    assert shell.stdout.splitlines()[0] == (f"run convert '{tmp_path}/in/a b.txt' - | cwebp -o "
                                            f"'{tmp_path}/in_exec/a b.txt' -- -")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_print0_and_log_carry_the_outputs(cli, notes, tmp_path):
    result = cli("exec", notes, "--print0", "--stdout", "--cmd", "cat {}", "--log", tmp_path / "log")
    assert result.exit_code == 0
    assert sorted(result.stdout.split("\0")[:-1]) == sorted(
        str(tmp_path / "notes_exec" / name) for name in TEXT)
    logged = file_records(tmp_path / "log")
    assert {r["status"] for r in logged} == {"ok"} and {r["exit_status"] for r in logged} == {0}


def test_a_job_file_runs_exec(cli, notes, tmp_path):
    (tmp_path / "jobs.toml").write_text(
        '[jobs.zip]\nstep = "exec"\ninputs = ["notes"]\nout = "zipped"\n'
        'options = { cmd = "gzip -c -n {}", stdout = true, name = "{/}.gz", check = "gzip -t {out}" }\n'
        '[jobs.validate]\nstep = "exec"\ninputs = ["notes"]\n'
        'options = { cmd = "grep -q needle", no-output = true }\n')
    result = cli("run", tmp_path / "jobs.toml")
    assert result.exit_code == 1  # a.txt has no needle
    assert "zip (exec): 3 ok" in result.stderr
    assert "validate (exec): 2 ok, 0 skipped, 1 failed" in result.stderr
    assert sorted(tree(tmp_path / "zipped")) == ["a.txt.gz", "b.txt.gz", "sub/c.log.gz"]
    missing = tmp_path / "missing.toml"
    missing.write_text('[jobs.x]\nstep = "exec"\ninputs = ["notes"]\noptions = { cmd = "no-such-tool-here {out}" }\n')
    result = cli("run", missing)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: job x: --cmd: command not found: no-such-tool-here")


def test_exec_works_under_spawn(cli, notes, tmp_path):
    result = cli("exec", notes, "--stdout", "--cmd", "cat {}", "--start-method", "spawn")
    assert result.exit_code == 0, result
    assert tree(tmp_path / "notes_exec") == {name: text.encode() for name, text in TEXT.items()}


@pytest.mark.skipif(not __import__("shutil").which("convert"), reason="ImageMagick is not installed")
def test_imagemagick_converts_by_the_extension_of_out(cli, tmp_path):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (40, 30), "red").save(tmp_path / "imgs/a.png")
    result = cli("exec", tmp_path / "imgs", "--ext", ".jpg", "--cmd", "convert {} -resize 50% {out}")
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_exec/a.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (20, 15))
