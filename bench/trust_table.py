"""The trust table: batchproc's image steps over the generated corpus, as Markdown.

Builds the corpus of tests/corpus/ in a temporary folder, runs every image step over it (as
tests/test_corpus.py does), reads every output back with Pillow and libvips, and prints one
row per corpus kind and one column per step: `ok`, `failed: <reason>` or `UNREADABLE: <why>`
(reported ok, but the output does not decode in Pillow or libvips at the expected size). Then
a summary per step, the in-place drills (originals that were readable and are not any more)
and the memory bomb's time and peak memory over batchproc's whole process tree.

    python bench/trust_table.py [--keep DIR] [--bomb-limit-mb 1024] [--bomb-timeout 60]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus  # noqa: E402  (tests/corpus/: the one corpus, shared with the tests)

READERS = (("pillow", "Pillow"), ("vips", "libvips"))
GROUPS = ["tiff", "png", "jpeg", "gif", "webp", "bmp", "hostile"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="build and run in DIR and keep it "
                        "(default: a temporary folder, removed at the end)")
    parser.add_argument("--bomb-limit-mb", type=int, default=1024, help="stop a run on the memory "
                        "bomb when its process tree passes this (default 1024)")
    parser.add_argument("--bomb-timeout", type=float, default=60.0, help="stop it after this many "
                        "seconds (default 60)")
    options = parser.parse_args(argv)
    folder = Path(options.keep or tempfile.mkdtemp(prefix="batchproc-trust-"))
    if options.keep and folder.exists():
        shutil.rmtree(folder)
    try:
        print(report(folder, options.bomb_limit_mb << 20, options.bomb_timeout))
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(folder: Path, bomb_limit: int, bomb_timeout: float) -> str:
    started = time.monotonic()
    files = corpus.build_corpus(folder / "corpus")
    built = time.monotonic() - started
    written = [item for item in files if item.path]
    bombs = [item for item in written if item.memory_bomb]
    ordinary = [item for item in written if not item.memory_bomb]
    inputs = corpus.read_back(item.path for item in ordinary)

    outcomes: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)  # kind -> step -> (status, message)
    counts: dict[str, Counter] = {}
    notes = []
    for step in corpus.STEPS:
        run = corpus.run_step(step, folder / "corpus", folder / "out" / step.name,
                              exclude=[item.path.name for item in bombs])
        if run.watched.stopped:
            notes.append(f"- `{step.name}` was stopped: it {run.watched.stopped}.")
        outputs = [path for record in run.records.values() if record.get("status") == "ok"
                   for path in corpus.output_paths(record)]
        readings = corpus.read_back(outputs)
        counts[step.name] = Counter()
        for item in ordinary:
            record = run.records.get(str(item.path))
            cell, problems = corpus.verdict(item, step, record, readings)
            status = cell.split(":")[0]
            counts[step.name][status] += 1
            if status == "failed":
                readers = [name for reader, name in READERS if inputs[str(item.path)][reader].get("ok")]
                if not item.hostile and readers:
                    status = "failed*"
                    counts[step.name]["failed, though a decoder reads it"] += 1
                if problems:
                    counts[step.name]["failed without a reason in words"] += 1
            message = problems[0] if status == "UNREADABLE" else (record or {}).get("error") or ""
            outcomes[item.kind][step.name] = (status, message)

    numbers = _number_messages(outcomes)
    lines = ["# batchproc trust table", "",
             f"{len(files)} corpus kinds ({len(written)} written, built in {built:.1f} s), "
             f"{len(corpus.STEPS)} image steps, each run once over the corpus with `--json`. "
             "`ok`: the output decodes fully in Pillow and in libvips at the expected size "
             "(libvips has no BMP loader: BMP outputs are read by Pillow alone). `UNREADABLE`: "
             "reported ok, but the output does not. `failed*`: failed, though the file is valid "
             "and Pillow or libvips decodes it. [n]: the full message, listed below the table.", ""]
    lines += _table(files, outcomes, counts, numbers)
    lines += ["", *notes] if notes else []
    lines += ["", "## Messages", ""]
    for message, number in sorted(numbers.items(), key=lambda pair: pair[1]):
        places = [f"{kind} ({step})" for kind, steps in outcomes.items()
                  for step, (status, text) in steps.items() if status != "ok" and text == message]
        lines.append(f"{number}. `{message}` ({len(places)}x): {_places(places)}")
    lines += ["", "## In place", ""] + in_place_drills(files, folder)
    lines += ["", "## Memory bomb", ""] + bomb_runs(bombs, folder, bomb_limit, bomb_timeout)
    return "\n".join(lines)


def _number_messages(outcomes) -> dict[str, int]:
    """Every distinct message of a cell that is not ok, numbered from the most frequent."""
    frequency = Counter(message for steps in outcomes.values()
                        for status, message in steps.values() if status != "ok")
    return {message: index + 1 for index, (message, _) in enumerate(frequency.most_common())}


def _places(where: list[str]) -> str:
    steps = defaultdict(list)
    for place in where:
        kind, step = place.rsplit(" (", 1)
        steps[kind].append(step.rstrip(")"))
    return "; ".join(f"{kind} ({', '.join(names)})" for kind, names in steps.items())


#: What the cells leave out of a message (the message itself is listed in full below the table).
WRAPPERS = re.compile(r"^(?:truncated or corrupt image|corrupt image) \((.*)\)$|^(not a readable image) \(.*\)$")


def _gist(message: str) -> str:
    found = WRAPPERS.match(message)
    if found:
        message = found.group(1) or found.group(2)
    return corpus.short(message.replace("failed with a Python exception, not a reason: ", ""), 36)


def _table(files, outcomes, counts, numbers) -> list[str]:
    names = [step.name for step in corpus.STEPS]
    lines = ["| kind | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    order = {group: index for index, group in enumerate(GROUPS)}
    for item in sorted(files, key=lambda item: (order.get(item.group, len(order)), item.kind)):
        if item.memory_bomb:
            continue
        if item.missing:
            lines.append(f"| {item.kind} | not built: {item.missing} |" + " |" * (len(names) - 1))
            continue
        row = []
        for name in names:
            status, message = outcomes[item.kind][name]
            cell = "ok" if status == "ok" else f"{status}: {_gist(message)} [{numbers[message]}]"
            row.append(cell.replace("|", "\\|"))
        lines.append(f"| {item.kind}{' (hostile)' if item.hostile else ''} | " + " | ".join(row) + " |")
    for label in ("ok", "failed", "UNREADABLE", "failed, though a decoder reads it",
                  "failed without a reason in words"):
        lines.append(f"| **{label}** | " + " | ".join(str(counts[name][label]) for name in names) + " |")
    return lines


def in_place_drills(files, folder) -> list[str]:
    lines = []
    for drill, arguments in corpus.IN_PLACE.items():
        copies = corpus.copy_corpus(files, folder / "corpus", folder / drill)
        before = corpus.read_back(copies)
        run = corpus.run_batchproc([arguments[0], folder / drill, *arguments[1:]])
        after = corpus.read_back(copies)
        lost = []
        for path, item in copies.items():
            gone = [name for reader, name in READERS
                    if before[path][reader].get("ok") and not after[path][reader].get("ok")]
            if gone:
                record = run.records.get(path, {})
                lost.append(f"{item.kind} (no longer read by {' or '.join(gone)}; batchproc said "
                            f"{record.get('status')})")
        readable = sum(1 for path in copies if any(before[path][r].get("ok") for r, _ in READERS))
        statuses = Counter(record.get("status") for record in run.records.values())
        lines.append(f"- `batchproc {' '.join(arguments)}` over {len(copies)} files "
                     f"({readable} readable before; batchproc: "
                     f"{', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}, exit "
                     f"{run.watched.returncode}): **{len(lost)} originals lost**"
                     + (": " + "; ".join(lost) if lost else ""))
    return lines


def bomb_runs(bombs, folder, limit, timeout) -> list[str]:
    lines = [f"Each step alone on the file, in its own session; stopped past "
             f"{limit >> 20} MB over the process tree or after {timeout:.0f} s.", "",
             "| kind | step | outcome | seconds | peak MB |", "|---|---|---|---|---|"]
    for item in bombs:
        for step in corpus.STEPS:
            source = folder / "bomb" / step.name / "in"
            source.mkdir(parents=True)
            shutil.copy(item.path, source)
            run = corpus.run_batchproc([*step.argv, source, "--out", source.parent / "out"],
                                       limit_bytes=limit, timeout=timeout)
            watched = run.watched
            record = run.records.get(str(source / item.path.name), {})
            outcome = (f"stopped: it {watched.stopped}" if watched.stopped else
                       f"{record.get('status')}: {corpus.short(record.get('error'), 60)}"
                       if record.get("error") else str(record.get("status")))
            lines.append(f"| {item.kind} | {step.name} | {outcome.replace('|', '/')} | "
                         f"{watched.seconds:.1f} | {watched.peak_bytes >> 20} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
