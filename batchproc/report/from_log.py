"""A run's page made afterwards from its --log file (`batchproc report`).

A log holds many runs appended one after another (a cron job's nights); each opens with a
header record (batchproc.run_header) and its file records carry its id. The records are read
twice, streaming: once to find the runs, once to count the chosen one, so a log of any size
takes the memory of one run's sample. An image step's thumbnails are made from the files as
they are now: its outputs, and its inputs where they are still there.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from batchproc.errors import UsageError
from batchproc.previews import THUMBNAIL_SIZE
from batchproc.report.sample import Card
from batchproc.report.section import Section
from batchproc.results import FileResult, Status
from batchproc.run_header import END, HEADER, RunHeader

#: Fields of a file's record that are not the step's own.
_BASE_FIELDS = {"status", "input", "output", "bytes_in", "bytes_out", "ms", "error", "warnings",
                "traceback", "run", "job"}
#: The id given to the records of a log written before runs had headers.
NO_HEADER = "(no header)"


@dataclass
class LoggedRun:
    """A run found in a log: its id, its headers (one per job), its file records' count."""

    run: str
    headers: list[RunHeader] = field(default_factory=list)
    records: int = 0
    ended: bool = False


def list_runs(path: str) -> list[LoggedRun]:
    """The runs in a log, oldest first."""
    runs: dict[str, LoggedRun] = {}
    for record in _records(path):
        kind = record.get("record")
        run_id = record.get("run") or NO_HEADER
        run = runs.setdefault(run_id, LoggedRun(run_id))
        if kind == HEADER:
            run.headers.append(RunHeader.from_record(record))
        elif kind == END:
            run.ended = True
        elif "status" in record:
            run.records += 1
    return list(runs.values())


def choose_run(runs: list[LoggedRun], wanted: str | None, path: str) -> LoggedRun:
    """The run `wanted` names (its id or the start of it), or the last one."""
    if not runs:
        raise UsageError(f"{path} holds no run (no records at all)")
    if wanted is None:
        return runs[-1]
    matches = [run for run in runs if run.run == wanted] or [run for run in runs if run.run.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    recent = ", ".join(run.run for run in runs[-5:])
    if not matches:
        raise UsageError(f"{path} has no run {wanted} (the last ones: {recent}; "
                         "batchproc report LOG --list lists them all)")
    raise UsageError(f"--run {wanted} fits {len(matches)} runs: give more of the id")


def sections_of(path: str, run: LoggedRun) -> list[Section]:
    """The chosen run's sections (one per job), counted from the log, with thumbnails."""
    sections: dict[str | None, Section] = {}
    for header in run.headers:
        sections[header.job] = Section.starting(header, _label(header))
        sections[header.job].from_log = True
    for record in _records(path):
        if (record.get("run") or NO_HEADER) != run.run:
            continue
        kind = record.get("record")
        section = sections.get(record.get("job"))
        if section is None:  # records of a log written before runs had headers
            header = RunHeader.from_record({"run": run.run, "step": "run without a header", "images": True})
            section = sections[record.get("job")] = Section.starting(header, _label(header))
            section.from_log = True
        if kind == END:
            section.elapsed = record.get("elapsed")
            section.stopped = record.get("stopped")
        elif kind is None and "status" in record:
            section.add(_result(record))
    for section in sections.values():
        if section.sample is not None and not run.headers and not any(
                card.output_size for card in section.sample.cards()):
            section.sample = None  # no header to say, and no record names a picture's size
        if section.sample is not None:
            _add_thumbnails(section)
    return list(sections.values())


def _label(header: RunHeader) -> str:
    return f"{header.job} ({header.step})" if header.job else header.step


def _records(path: str):
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except OSError as error:
        raise UsageError(f"cannot read the log {path}: {error.strerror or error}") from None
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a crash: the rest still counts
                continue
            if isinstance(record, dict):
                yield record


def _result(record: dict) -> FileResult:
    status = record.get("status")
    try:
        status = Status(status)
    except ValueError:  # a status this version does not know: counted under its name
        pass
    data = {key: value for key, value in record.items() if key not in _BASE_FIELDS}
    return FileResult(status, record.get("input") or "", record.get("output"), record.get("bytes_in"),
                      record.get("bytes_out"), record.get("ms"), record.get("error"), data)


def _add_thumbnails(section: Section) -> None:
    """Thumbnails of what still exists, made in threads (decoders release the GIL)."""
    from batchproc.image.thumbnails import of_file

    cwd = section.header.cwd or os.getcwd()

    def thumbnail(path: str | None):
        if not path:
            return None, False
        full = os.path.join(cwd, path)
        if not os.path.isfile(full):
            return None, True
        return of_file(full, THUMBNAIL_SIZE), False

    def with_thumbnails(card: Card) -> Card:
        output = card.output[0] if isinstance(card.output, list) else card.output
        before, input_gone = thumbnail(card.input)
        after, output_gone = thumbnail(output) if card.status != "failed" else (None, False)
        return card._replace(before=before, after=after, input_gone=input_gone, output_gone=output_gone)

    cards = [*section.sample.cards(), *section.sample.failures]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        made = dict(zip((card.order for card in cards), pool.map(with_thumbnails, cards)))
    section.sample.replace_cards(lambda card: made.get(card.order, card))
