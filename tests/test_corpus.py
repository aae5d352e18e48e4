"""Trust on real-world images: every corpus file through every image step, read back twice.

The corpus (tests/corpus/) is built once per session, and each image step runs once over all
of it, as a user runs batchproc (`python -m batchproc STEP FOLDER --out OUT --json`). Then,
for every file and step: the file ends ok with an output that Pillow and libvips both decode
fully at the expected size, or failed with a reason in words. In place, no original that a
decoder could read before may be unreadable after. A GIF whose frame declares 65535x65535
pixels must fail, in bounded memory, measured over batchproc's whole process tree.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("pyvips", reason="outputs are read back with libvips too: pip install pyvips")

import corpus  # noqa: E402
from corpus import IN_PLACE, STEPS, STEPS_BY_NAME  # noqa: E402

MEMORY_BOMBS = [case.kind for case in corpus.CASES if case.memory_bomb]
KINDS = [kind for kind in corpus.kinds() if kind not in MEMORY_BOMBS]
VALID_KINDS = [case.kind for case in corpus.CASES if not case.hostile]
STEP_NAMES = [step.name for step in STEPS]
#: The memory a run on the bomb may take, counting every process batchproc starts.
MEMORY_CEILING = 1 << 30
BOMB_TIMEOUT = 60.0
READERS = (("pillow", "Pillow"), ("vips", "libvips"))
#: What batchproc itself writes on stderr when it is not a terminal: failures and the summary.
OWN_STDERR_LINE = re.compile(r"^(failed: .+|\w[\w-]*: \d+ ok, .+)$")


@dataclass
class Corpus:
    folder: Path
    files: dict[str, corpus.CorpusFile]
    seconds: float

    def file(self, kind) -> corpus.CorpusFile:
        """The corpus file of this kind, or a skip naming the tool that could not write it."""
        item = self.files[kind]
        if item.missing:
            pytest.skip(f"{kind} is not in the corpus here: {item.missing}")
        return item


@dataclass
class StepOutcome:
    run: corpus.StepRun
    #: output path -> {"pillow": reading, "vips": reading}
    readings: dict


@dataclass
class InPlaceOutcome:
    run: corpus.StepRun
    #: kind -> the copy that was replaced in place
    paths: dict[str, str]
    before: dict
    after: dict


@dataclass
class Runs:
    """Each batchproc run the tests need, made once, on first use."""

    corpus: Corpus
    scratch: Path
    steps: dict = field(default_factory=dict)
    drills: dict = field(default_factory=dict)
    inputs: dict | None = None

    def step(self, name) -> StepOutcome:
        if name not in self.steps:
            bombs = [self.corpus.files[kind].path.name for kind in MEMORY_BOMBS
                     if self.corpus.files[kind].path]
            run = corpus.run_step(STEPS_BY_NAME[name], self.corpus.folder, self.scratch / name,
                                  exclude=bombs)
            outputs = [path for record in run.records.values() if record.get("status") == "ok"
                       for path in corpus.output_paths(record)]
            self.steps[name] = StepOutcome(run, corpus.read_back(outputs))
        return self.steps[name]

    def in_place(self, name) -> InPlaceOutcome:
        if name not in self.drills:
            folder = self.scratch / name
            copies = corpus.copy_corpus(list(self.corpus.files.values()), self.corpus.folder, folder)
            before = corpus.read_back(copies)
            run = corpus.run_batchproc([*IN_PLACE[name][:1], folder, *IN_PLACE[name][1:]])
            self.drills[name] = InPlaceOutcome(run, {item.kind: path for path, item in copies.items()},
                                               before, corpus.read_back(copies))
        return self.drills[name]

    def input_readings(self) -> dict:
        if self.inputs is None:
            self.inputs = corpus.read_back(item.path for item in self.corpus.files.values()
                                           if item.path and not item.memory_bomb)
        return self.inputs


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Corpus:
    folder = tmp_path_factory.mktemp("corpus") / "in"
    started = time.monotonic()
    files = corpus.build_corpus(folder)
    return Corpus(folder, {item.kind: item for item in files}, time.monotonic() - started)


@pytest.fixture(scope="session")
def runs(built, tmp_path_factory) -> Runs:
    return Runs(built, tmp_path_factory.mktemp("runs"))


def test_corpus_is_built_in_seconds(built):
    assert built.seconds < 20, f"building the corpus took {built.seconds:.1f} s"
    assert len(built.files) == len(corpus.kinds())


@pytest.mark.parametrize("step", STEP_NAMES)
def test_every_file_gets_one_record(runs, built, step):
    outcome = runs.step(step)
    watched = outcome.run.watched
    assert watched.stopped is None, f"batchproc {step} was stopped: it {watched.stopped}"
    assert watched.returncode in (0, 1), watched.stderr.decode(errors="replace")[-2000:]
    assert outcome.run.stray_lines == []
    expected = {str(item.path) for item in built.files.values() if item.path and not item.memory_bomb}
    assert expected <= set(outcome.run.records)


@pytest.mark.parametrize("step", STEP_NAMES)
def test_library_warnings_stay_off_stderr(runs, step):
    """Warnings of Pillow, libtiff or libvips belong in the file's record, not unattributed in
    the middle of the run's own lines."""
    stderr = runs.step(step).run.watched.stderr.decode(errors="replace")
    stray = [line for line in stderr.splitlines() if line.strip() and not OWN_STDERR_LINE.match(line)]
    assert not stray, f"{len(stray)} lines on stderr that batchproc did not write:\n" + "\n".join(stray[:8])


@pytest.mark.parametrize("step", STEP_NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_ok_reads_back_or_failed_says_why(runs, built, kind, step):
    """ok: Pillow and libvips both decode the output fully, at the expected size. failed: a
    reason in words (no exception class name, no traceback)."""
    item = built.file(kind)
    outcome = runs.step(step)
    record = outcome.run.records.get(str(item.path))
    cell, problems = corpus.verdict(item, STEPS_BY_NAME[step], record, outcome.readings)
    assert not problems, f"{kind} after {step}: {'; '.join(problems)} (batchproc said {record})"


@pytest.mark.parametrize("step", STEP_NAMES)
@pytest.mark.parametrize("kind", [kind for kind in VALID_KINDS if kind in KINDS])
def test_valid_images_a_decoder_reads_are_processed(runs, built, kind, step):
    """A valid file that Pillow or libvips decodes is processed, not failed."""
    item = built.file(kind)
    reading = runs.input_readings()[str(item.path)]
    readers = [name for reader, name in READERS if reading[reader].get("ok")]
    record = runs.step(step).run.records.get(str(item.path)) or {}
    if readers:
        assert record.get("status") == "ok", (
            f"{kind} after {step}: {record.get('status')} ({record.get('error')}), though "
            f"{' and '.join(readers)} decode{'s' if len(readers) == 1 else ''} it")


@pytest.mark.parametrize("drill", list(IN_PLACE))
@pytest.mark.parametrize("kind", KINDS)
def test_in_place_leaves_every_readable_original_readable(runs, built, kind, drill):
    built.file(kind)
    outcome = runs.in_place(drill)
    path = outcome.paths[kind]
    lost = [f"{name} ({outcome.after[path][reader].get('error')})" for reader, name in READERS
            if outcome.before[path][reader].get("ok") and not outcome.after[path][reader].get("ok")]
    record = outcome.run.records.get(path, {})
    assert not lost, (f"{kind}: batchproc {' '.join(IN_PLACE[drill])} replaced an original that "
                      f"was readable with one that is not: {', '.join(lost)}; batchproc said "
                      f"{record.get('status')} {record.get('error') or ''}".rstrip())


@pytest.mark.parametrize("step", STEP_NAMES)
@pytest.mark.parametrize("kind", MEMORY_BOMBS)
def test_memory_bomb_fails_in_bounded_memory(built, tmp_path, kind, step, record_property):
    item = built.file(kind)
    (tmp_path / "in").mkdir()
    shutil.copy(item.path, tmp_path / "in")
    run = corpus.run_batchproc([*STEPS_BY_NAME[step].argv, tmp_path / "in", "--out", tmp_path / "out"],
                               limit_bytes=MEMORY_CEILING, timeout=BOMB_TIMEOUT)
    watched = run.watched
    record_property("seconds", round(watched.seconds, 2))
    record_property("peak_mb", watched.peak_bytes >> 20)
    measured = f"{watched.seconds:.1f} s, peak {watched.peak_bytes >> 20} MB over the process tree"
    assert watched.stopped is None, f"{step} on {kind} was stopped: it {watched.stopped} ({measured})"
    assert watched.peak_bytes < MEMORY_CEILING, measured
    record = run.records.get(str(tmp_path / "in" / item.path.name), {})
    assert record.get("status") == "failed", (
        f"{step} on {kind} ended {record.get('status')} ({measured}); a frame declaring "
        f"65535x65535 pixels must fail the file, whatever the step keeps of it: {record}")
    assert corpus.reason_problem(record.get("error")) is None, record
