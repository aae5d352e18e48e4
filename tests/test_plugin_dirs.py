"""Drop-in plugin folders: only folders the user names are loaded, in every worker, never the walked tree."""

import os

DROP_IN = '''
import os
from batchproc import Step, hookimpl


class Stamp(Step):
    """Copy files, adding a line that names the process that did it.

    Example: batchproc --plugin-dir ~/batchproc-plugins stamp notes/
    """

    name = "stamp"
    summary = "Stamp files with the worker's process id."
    output_suffix = "_stamped"

    def __init__(self, mark: str = "stamped"):
        super().__init__(mark=mark)
        self.mark = mark

    def process(self, source, target):
        target.write_bytes(source.read_bytes() + f"\\n{self.mark} by {os.getpid()}".encode())


@hookimpl
def register_steps(register):
    register(Stamp)
'''

#: A plugin that proves it was imported by leaving a file behind.
TRAP = '''
import pathlib
pathlib.Path({marker!r}).write_text("imported")
from batchproc import Step, hookimpl


class Trap(Step):
    name = "trap"


@hookimpl
def register_steps(register):
    register(Trap)
'''


def make_plugin_dir(tmp_path):
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / "stamp.py").write_text(DROP_IN)
    return folder


def make_notes(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/a.txt").write_text("alpha")
    (tmp_path / "notes/b.txt").write_text("beta")
    return tmp_path / "notes"


def stamped_by(path) -> int:
    return int(path.read_text().rsplit(" by ", 1)[1])


def test_plugin_dir_adds_a_step_that_spawned_workers_load(cli, tmp_path):
    folder, notes = make_plugin_dir(tmp_path), make_notes(tmp_path)
    listing = cli("--plugin-dir", folder, "plugins")
    assert f"stamp\t{folder / 'stamp.py'}\tStamp files" in listing.stdout
    result = cli("--plugin-dir", folder, "stamp", notes, "--mark", "seen", "--jobs", 2,
                 "--start-method", "spawn")
    assert result.exit_code == 0, result
    output = tmp_path / "notes_stamped/a.txt"
    assert output.read_text().startswith("alpha\nseen by ")
    assert stamped_by(output) != os.getpid()  # done in a spawned worker, which loaded the folder


def test_environment_names_plugin_dirs_too(batchproc_process, tmp_path):
    folder, notes = make_plugin_dir(tmp_path), make_notes(tmp_path)
    result = batchproc_process("stamp", notes, "--jobs", 2, "--start-method", "spawn",
                               env={"BATCHPROC_PLUGIN_DIRS": str(folder)})
    assert result.exit_code == 0, result
    assert (tmp_path / "notes_stamped/b.txt").read_text().startswith("beta\nstamped by ")


def test_step_unknown_without_its_folder(cli, tmp_path):
    make_plugin_dir(tmp_path)
    result = cli("stamp", make_notes(tmp_path))
    assert result.exit_code == 2 and "No such command 'stamp'" in result.stderr


def test_nothing_in_the_walked_tree_is_ever_imported(batchproc_process, tmp_path):
    folder, notes = make_plugin_dir(tmp_path), make_notes(tmp_path)
    marker = tmp_path / "imported"
    trap = TRAP.format(marker=str(marker))
    (notes / "trap.py").write_text(trap)  # an input file that happens to be Python
    (notes / "plugins").mkdir()
    (notes / "plugins/trap.py").write_text(trap)
    (folder / "nested").mkdir()
    (folder / "nested/trap.py").write_text(trap)  # plugin folders are not searched below either
    result = batchproc_process("--plugin-dir", folder, "stamp", ".", "--jobs", 2,
                               "--start-method", "spawn", cwd=notes)
    assert result.exit_code == 0, result
    assert not marker.exists()
    assert (tmp_path / "notes_stamped/trap.py").read_text().startswith(trap)  # processed as data
    assert (tmp_path / "notes_stamped/plugins/trap.py").exists()
    listing = batchproc_process("--plugin-dir", folder, "plugins", cwd=notes)
    assert b"stamp" in listing.stdout and b"trap" not in listing.stdout and not marker.exists()


def test_the_example_in_the_plugin_guide_works(cli, tmp_path):
    import re
    from pathlib import Path

    guide = (Path(__file__).parent.parent / "docs/PLUGINS.md").read_text()
    folder = tmp_path / "guide"
    folder.mkdir()
    (folder / "shout.py").write_text(re.search(r"```python\n(.*?)```", guide, re.S)[1])
    notes = make_notes(tmp_path)
    (notes / "empty.txt").write_text("")
    result = cli("--plugin-dir", folder, "shout", notes, "--marks", 2, "--jobs", 1)
    assert result.exit_code == 1
    assert (tmp_path / "notes_shouted/a.txt").read_text() == "ALPHA!!"
    assert "empty.txt: empty file" in result.stderr


NEGATE = """
from PIL import ImageOps
from batchproc import hookimpl
from batchproc.image import ImageStep


class Negate(ImageStep):
    \"\"\"Invert colours. Example: batchproc negate imgs\"\"\"
    name = "negate"
    output_suffix = "_negated"

    def transform(self, picture):
        return picture.map(lambda frame: ImageOps.invert(frame.convert("RGB")))


@hookimpl
def register_steps(register):
    register(Negate)
"""


def test_a_chain_can_use_a_step_from_a_plugin_folder(cli, tmp_path):
    from PIL import Image

    (tmp_path / "local").mkdir()
    (tmp_path / "local/negate.py").write_text(NEGATE)
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (80, 40), (250, 10, 10)).save(tmp_path / "imgs/a.png")
    result = cli("--plugin-dir", tmp_path / "local", "chain", tmp_path / "imgs", "--steps",
                 "resize --max 20 | negate", "--jobs", 1, "--start-method", "spawn")
    assert result.exit_code == 0, result
    with Image.open(tmp_path / "imgs_processed/a.png") as out:
        assert out.size == (20, 10) and out.getpixel((5, 5)) == (5, 245, 245)
