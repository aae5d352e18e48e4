"""The compress step: gzip and zstd outputs, levels, --keep, and removing inputs only when safe."""

import gzip
import importlib
import os
import shutil
import subprocess
import sys

import pytest

from batchproc import StepError
from batchproc.execution import run_task
from batchproc.task import Task, WorkerSpec

TEXT = b"".join(b"line %d of a log that compresses well\n" % i for i in range(5000))


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "logs/sub").mkdir(parents=True)
    (tmp_path / "logs/a.log").write_bytes(TEXT)
    (tmp_path / "logs/sub/b.log").write_bytes(TEXT[:1000])
    return tmp_path / "logs"


def has_zstd():
    for name in ("zstandard", "compression.zstd"):
        try:
            importlib.import_module(name)
            return True
        except ImportError:
            pass
    return False


def test_gzip_beside_the_folder_keeps_inputs_and_names_the_original(cli, logs, tmp_path):
    result = cli("compress", logs, "--jobs", 1)
    assert result.exit_code == 0, result
    packed = (tmp_path / "logs_compressed/a.log.gz").read_bytes()
    assert gzip.decompress(packed) == TEXT
    assert gzip.decompress((tmp_path / "logs_compressed/sub/b.log.gz").read_bytes()) == TEXT[:1000]
    assert packed[10:16] == b"a.log\x00"  # the header names the input, not a temporary file
    assert (logs / "a.log").read_bytes() == TEXT
    if shutil.which("gzip"):
        assert subprocess.run(["gzip", "-t", tmp_path / "logs_compressed/a.log.gz"]).returncode == 0


def test_in_place_no_keep_is_gzip_itself(cli, logs):
    os.chmod(logs / "a.log", 0o600)
    result = cli("compress", logs, "--in-place", "--no-keep", "--jobs", 2)
    assert result.exit_code == 0, result
    assert sorted(p.name for p in logs.iterdir() if p.is_file()) == ["a.log.gz"]
    assert (logs / "sub").exists() and not (logs / "sub/b.log").exists()
    assert gzip.decompress((logs / "a.log.gz").read_bytes()) == TEXT
    assert oct((logs / "a.log.gz").stat().st_mode & 0o777) == oct(0o600)  # private stays private


def test_compressed_files_are_skipped(cli, logs):
    assert cli("compress", logs, "--in-place", "--jobs", 1).exit_code == 0
    again = cli("compress", logs, "--in-place", "--jobs", 1, "--force")
    assert again.exit_code == 0
    assert "2 ok, 2 skipped (2 already compressed)" in again.stderr
    assert not list(logs.rglob("*.gz.gz"))


def test_level_trades_size_for_time(cli, logs, tmp_path):
    for level in (1, 9):
        assert cli("compress", logs, "--out", tmp_path / f"l{level}", "--level", level, "--jobs", 1).exit_code == 0
    fast, small = ((tmp_path / f"l{level}/a.log.gz").stat().st_size for level in (1, 9))
    assert small < fast


@pytest.mark.parametrize("options, message", [
    (("--level", "10"), "--level for gzip must be from 1 to 9, not 10"),
    (("--format", "zstd", "--level", "23"), "--level for zstd must be from 1 to 22, not 23"),
])
def test_bad_levels_are_usage_errors(cli, logs, options, message):
    result = cli("compress", logs, *options)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.skipif(not has_zstd(), reason="no zstd here (pip install zstandard)")
def test_zstd(cli, logs, tmp_path):
    assert cli("compress", logs, "--format", "zstd", "--level", 19, "--jobs", 1).exit_code == 0
    packed = (tmp_path / "logs_compressed/a.log.zst").read_bytes()
    try:
        import zstandard

        assert zstandard.ZstdDecompressor().decompress(packed) == TEXT
    except ImportError:
        from compression import zstd

        assert zstd.decompress(packed) == TEXT


def test_zstd_missing_is_a_clear_usage_error(cli, logs, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # None in sys.modules: import fails
    monkeypatch.setitem(sys.modules, "compression.zstd", None)
    result = cli("compress", logs, "--format", "zstd")
    assert result.exit_code == 2
    assert "zstd needs the zstandard module (pip install zstandard) or Python 3.14" in result.stderr


def test_input_removed_only_after_its_output_is_in_place(tmp_path):
    from batchproc_plugins.compress import Compress

    seen = []

    class Watching(Compress):
        def after_publish(self, source, outputs):
            seen.append([output.exists() for output in outputs])
            super().after_publish(source, outputs)

    (tmp_path / "a.log").write_bytes(TEXT)
    result = run_task(Watching(keep=False), Task(1, str(tmp_path / "a.log"), (str(tmp_path / "a.log.gz"),)), WorkerSpec("compress", {}))
    assert result.status == "ok" and seen == [[True]]
    assert not (tmp_path / "a.log").exists()


def test_a_failed_file_keeps_its_input(tmp_path):
    from batchproc_plugins.compress import Compress

    class Failing(Compress):
        def process(self, source, target):
            super().process(source, target)
            raise StepError("disk trouble")

    (tmp_path / "a.log").write_bytes(TEXT)
    result = run_task(Failing(keep=False), Task(1, str(tmp_path / "a.log"), (str(tmp_path / "a.log.gz"),)), WorkerSpec("compress", {}))
    assert result.status == "failed" and result.error == "disk trouble"
    assert (tmp_path / "a.log").read_bytes() == TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.log"]  # no output, no temporary
