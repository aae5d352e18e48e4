"""Plugins: a third-party step arrives through the same entry points as the built-ins."""

import pytest

PLUGIN = '''
from typing import Annotated
import typer
from batchproc import Step, StepError, hookimpl


class Shout(Step):
    """Upper-case text files.

    Example: batchproc shout notes/
    """

    name = "shout"
    summary = "Upper-case text files."
    extensions = frozenset({".txt"})
    accepts = "not a text file"
    output_suffix = "_shouted"

    def __init__(self, marks: Annotated[int, typer.Option(help="Exclamation marks to add.")] = 1):
        super().__init__(marks=marks)
        self.marks = marks

    def process(self, source, target):
        text = source.read_text()
        if "whisper" in text:
            raise StepError("refuses to shout a whisper")
        target.write_text(text.upper() + "!" * self.marks)
        return {"characters": len(text)}


@hookimpl
def register_steps(register):
    register(Shout)
'''


@pytest.fixture
def installed_plugin(install_plugin):
    """The shout plugin, installed as a package would be: the folder holding its module."""
    return install_plugin("shout_plugin", PLUGIN).parent


def test_builtin_steps_come_through_the_entry_point_group(cli):
    result = cli("plugins")
    assert result.exit_code == 0
    assert "resize\tbatchproc:resize\tResize images" in result.stdout


def test_installed_plugin_becomes_a_command_with_its_options(cli, installed_plugin, tmp_path):
    listing = cli("plugins")
    assert "shout\tshout-plugin:shout_plugin\tUpper-case text files." in listing.stdout
    assert "--marks" in cli("shout", "--help").stdout
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/a.txt").write_text("hello")
    (tmp_path / "notes/b.txt").write_text("whisper")
    result = cli("shout", tmp_path / "notes", "--marks", 3, "--jobs", 2, "--start-method", "spawn")
    assert result.exit_code == 1
    assert (tmp_path / "notes_shouted/a.txt").read_text() == "HELLO!!!"
    assert "b.txt: refuses to shout a whisper" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_plugin_warns_and_is_skipped(cli, installed_plugin):
    (installed_plugin / "shout_plugin.py").write_text("raise ImportError('missing dependency: lasers')")
    result = cli("plugins")
    assert result.exit_code == 0
    assert "resize" in result.stdout and "shout" not in result.stdout
    assert "Warning: plugin shout_plugin failed to load: missing dependency: lasers" in result.stderr


def test_a_misspelt_hook_is_reported(cli, installed_plugin):
    source = (installed_plugin / "shout_plugin.py").read_text()
    (installed_plugin / "shout_plugin.py").write_text(source.replace("def register_steps", "def register_step"))
    result = cli("plugins")
    assert "shout" not in result.stdout
    assert "register_step" in result.stderr
