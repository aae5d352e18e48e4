"""The registry of installed steps: cached between runs, never stale."""

import json
import os
import time
from pathlib import Path

PLUGIN = '''
from batchproc import Step, hookimpl


class Tick(Step):
    """Copy files.

    Example: batchproc tick notes/
    """
    name = "tick"
    summary = "SUMMARY"
    output_suffix = "_ticked"

    def __init__(self, OPTION):
        super().__init__()

    def process(self, source, target):
        target.write_bytes(source.read_bytes())


@hookimpl
def register_steps(register):
    register(Tick)
'''


def write_plugin(module: Path, summary: str, option: str = "") -> None:
    module.write_text(PLUGIN.replace("SUMMARY", summary).replace("OPTION", option or "level: int = 1"))
    stamp = time.time() + 2  # a later modification time than any cached one, even on coarse clocks
    os.utime(module, (stamp, stamp))


def cache_files():
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "batchproc"
    return sorted(folder.glob("steps-*.json")) if folder.exists() else []


def test_an_edited_plugin_is_seen_at_once(batchproc_process, install_plugin):
    module = install_plugin("tick_plugin", PLUGIN.replace("SUMMARY", "First.").replace("OPTION", "level: int = 1"))
    assert b"tick\ttick-plugin:tick_plugin\tFirst." in batchproc_process("plugins").stdout
    assert cache_files()
    write_plugin(module, "Second.", "colour: str = 'red'")  # as under pip install -e
    assert b"tick\ttick-plugin:tick_plugin\tSecond." in batchproc_process("plugins").stdout
    help_text = batchproc_process("tick", "--help").stdout
    assert b"--colour" in help_text and b"--level" not in help_text


def test_a_plugin_installed_after_the_cache_was_written_appears(batchproc_process, install_plugin):
    assert b"tick" not in batchproc_process("plugins").stdout
    install_plugin("tick_plugin", PLUGIN.replace("SUMMARY", "New.").replace("OPTION", "level: int = 1"))
    assert b"tick\ttick-plugin:tick_plugin\tNew." in batchproc_process("plugins").stdout


def test_a_damaged_cache_is_rebuilt(cli):
    from batchproc.registry import _cache_path

    cli("plugins")
    path = Path(_cache_path(()))
    path.write_text("{not json")
    result = cli("plugins")
    assert result.exit_code == 0 and "resize\tbatchproc:resize" in result.stdout
    assert json.loads(path.read_text())["entries"]


def test_help_lists_every_step_without_importing_them(batchproc_process, tmp_path):
    batchproc_process("plugins")  # the cache is written by a first start
    probe = ("import sys; from batchproc.cli import run; run(['--help']); "
             "print(sorted(m for m in sys.modules if m.startswith(('batchproc_plugins', 'PIL', 'typer'))))")
    completed = batchproc_process.python("-c", probe)
    assert "resize" in completed.stdout and "thumbnail" in completed.stdout
    assert completed.stdout.strip().splitlines()[-1] == "[]"
