"""The checksum step: manifests byte-identical to coreutils' own, and --check like sha256sum -c."""

import hashlib
import shutil
import subprocess

import pytest

#: File names that need care: spaces, newlines, backslashes, carriage returns, a leading dash,
#: bytes that are not UTF-8.
ODD_NAMES = [b"plain.txt", b"with space.txt", b"new\nline.txt", b"back\\slash.txt", b"-dash.txt",
             b"caf\xe9.bin", b"cr\rin.txt", b"trailing-cr\r", b"both\\and\nnewline.txt"]
TOOLS = {"sha256": "sha256sum", "sha1": "sha1sum", "md5": "md5sum", "blake2b": "b2sum"}


def odd_tree(folder):
    folder.mkdir()
    for index, name in enumerate(ODD_NAMES):
        (folder / name.decode("utf-8", "surrogateescape")).write_bytes(b"content %d\n" % index * (index + 1))
    return folder


def coreutils(tool, *args, cwd):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True)


def sorted_lines(data: bytes) -> list[bytes]:
    return sorted(data.splitlines())


@pytest.mark.parametrize("algorithm", sorted(TOOLS))
def test_manifest_is_byte_for_byte_what_coreutils_writes(batchproc_process, tmp_path, algorithm):
    odd_tree(tmp_path / "d")
    result = batchproc_process("checksum", "d", "--algorithm", algorithm, "--jobs", 2, cwd=tmp_path)
    assert result.exit_code == 0, result
    names = sorted(p.name for p in (tmp_path / "d").iterdir())
    theirs = coreutils(TOOLS[algorithm], "--", *(f"d/{name}" for name in names), cwd=tmp_path)
    assert sorted_lines(result.stdout) == sorted_lines(theirs.stdout)
    assert len(sorted_lines(result.stdout)) == len(ODD_NAMES)
    assert b"checksum: 9 ok" in result.stderr


@pytest.mark.parametrize("algorithm", ["sha256", "blake2b"])
def test_coreutils_checks_our_manifest(batchproc_process, tmp_path, algorithm):
    odd_tree(tmp_path / "d")
    manifest = batchproc_process("checksum", "d", "-a", algorithm, cwd=tmp_path).stdout
    (tmp_path / "manifest").write_bytes(manifest)
    check = coreutils(TOOLS[algorithm], "-c", "manifest", cwd=tmp_path)
    assert check.returncode == 0, check
    assert check.stdout.count(b": OK\n") == len(ODD_NAMES)


def test_verify_prints_what_sha256sum_c_prints(batchproc_process, tmp_path):
    folder = odd_tree(tmp_path / "d")
    manifest = coreutils("sha256sum", "--", *sorted(p.name for p in folder.iterdir()), cwd=folder).stdout
    (tmp_path / "d.sha256").write_bytes(manifest)
    ours = batchproc_process("checksum", "--check", "../d.sha256", cwd=folder)
    assert ours.exit_code == 0, ours
    theirs = coreutils("sha256sum", "-c", "../d.sha256", cwd=folder)
    assert sorted_lines(ours.stdout) == sorted_lines(theirs.stdout)

    (folder / "new\nline.txt").write_bytes(b"changed")
    (folder / "-dash.txt").write_bytes(b"changed too")
    ours = batchproc_process("checksum", "--check", "../d.sha256", cwd=folder)
    theirs = coreutils("sha256sum", "-c", "../d.sha256", cwd=folder)
    assert ours.exit_code == 1 and theirs.returncode == 1
    assert sorted_lines(ours.stdout) == sorted_lines(theirs.stdout)
    assert b"\\new\\nline.txt: FAILED" in ours.stdout
    assert b"-dash.txt: checksum mismatch" in ours.stderr


def test_verify_reports_a_missing_file_like_sha256sum(batchproc_process, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "here.txt").write_bytes(b"here")
    (folder / "gone.txt").write_bytes(b"gone soon")
    (tmp_path / "m").write_bytes(coreutils("sha256sum", "here.txt", "gone.txt", cwd=folder).stdout)
    (folder / "gone.txt").unlink()
    ours = batchproc_process("checksum", "--check", "../m", cwd=folder)
    theirs = coreutils("sha256sum", "-c", "../m", cwd=folder)
    assert ours.exit_code == theirs.returncode == 1
    assert sorted_lines(ours.stdout) == sorted_lines(theirs.stdout)  # gone.txt: FAILED open or read


def test_verify_reads_bsd_tagged_manifests_and_crlf(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"hello")
    digest = hashlib.md5(b"hello").hexdigest()
    (tmp_path / "tagged.md5").write_bytes(f"MD5 (a.txt) = {digest}\r\n".encode())
    result = cli("checksum", "--check", "tagged.md5", "--algorithm", "md5", "--jobs", 1)
    assert result.exit_code == 0, result
    assert result.stdout == "a.txt: OK\n"


def test_paths_print_as_given_and_nothing_is_written(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d/sub").mkdir(parents=True)
    (tmp_path / "d/sub/a.txt").write_bytes(b"hello")
    result = cli("checksum", "./d", "--jobs", 1)
    assert result.exit_code == 0, result
    assert result.stdout == f"{hashlib.sha256(b'hello').hexdigest()}  ./d/sub/a.txt\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


@pytest.mark.parametrize("manifest, options, message", [
    (None, (), "cannot read --check manifest"),
    (b"", (), "lists no files"),
    (b"not a checksum line\n", (), "line 1 is not a checksum line"),
    (b"%s  a.txt\n" % (b"0" * 32), (), "does not hold a sha256 digest: use --algorithm md5"),
    (b"SHA1 (a.txt) = %s\n" % (b"0" * 40), (), "is a sha1 checksum: use --algorithm sha1"),
    (b"\\%s  a\\qb\n" % (b"0" * 64), (), "unknown escape"),
])
def test_bad_manifests_are_usage_errors(cli, tmp_path, monkeypatch, manifest, options, message):
    monkeypatch.chdir(tmp_path)
    if manifest is not None:
        (tmp_path / "m").write_bytes(manifest)
    result = cli("checksum", "--check", "m", *options)
    assert result.exit_code == 2
    assert message in result.stderr


def test_escaped_names_read_back_as_written(tmp_path):
    from batchproc_plugins.manifest import manifest_line, read_manifest

    names = ["a\\b", "a\nb", "a\rb", "end\r", "\\\n\r", "plain name"]
    lines = [manifest_line(f"{index:064x}", name) for index, name in enumerate(names)]
    assert all("\n" not in line for line in lines)
    (tmp_path / "m").write_text("".join(line + "\n" for line in lines))
    assert read_manifest(str(tmp_path / "m"), "sha256") == {
        name: f"{index:064x}" for index, name in enumerate(names)}


@pytest.mark.parametrize("option", [["--out", "somewhere"], ["--in-place"]])
def test_a_step_that_writes_no_files_refuses_an_output_folder(cli, tmp_path, option):
    (tmp_path / "a.txt").write_text("a")
    result = cli("checksum", tmp_path, *option)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: checksum writes no files here: ")
    assert not (tmp_path / "somewhere").exists()
