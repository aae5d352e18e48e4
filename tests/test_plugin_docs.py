"""A plugin written only from docs/PLUGINS.md works: its examples run as printed."""

import re
from pathlib import Path

from conftest import write_files

DOCS = Path(__file__).parent.parent / "docs" / "PLUGINS.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)


def test_the_docs_import_only_the_public_surface():
    for block in python_blocks():
        for module in re.findall(r"^\s*(?:from|import) (batchproc\S*)", block, re.M):
            assert module in ("batchproc", "batchproc.image"), module


def test_the_twenty_line_step_runs_from_a_plugin_folder(cli, tmp_path):
    shout = next(block for block in python_blocks() if "class Shout(Step)" in block)
    plugins = write_files(tmp_path / "plugins", {"shout.py": shout})
    write_files(tmp_path / "notes", {"a.txt": "hello", "empty.txt": ""})
    result = cli("--plugin-dir", plugins, "shout", tmp_path / "notes", "--marks", 2, "--jobs", 2)
    assert result.exit_code == 1
    assert (tmp_path / "notes_shouted/a.txt").read_text() == "HELLO!!"
    assert "empty.txt: empty file" in result.stderr and "Traceback" not in result.stderr


def test_the_twenty_line_step_installs_as_a_package(cli, install_plugin, tmp_path):
    shout = next(block for block in python_blocks() if "class Shout(Step)" in block)
    install_plugin("batchproc_shout", shout)
    write_files(tmp_path / "notes", {"a.txt": "hi"})
    assert cli("shout", tmp_path / "notes", "--start-method", "spawn").exit_code == 0
    assert (tmp_path / "notes_shouted/a.txt").read_text() == "HI!"
