"""The command line of bench/run.py: options to Config, then every task, then the report."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .config import (ALL_TASKS, DEFAULT_BENCH_DIR, DEFAULT_IMAGE, DEFAULT_INSTALLS, DEFAULT_PEERS, DEFAULT_TASKS,
                     INSTALLS, REPO, Config)
from .installs import build_installs
from .machine import load_average, machine_info
from .noise import describe, snapshot
from .report import by_task, format_machine, format_table, save_json, save_markdown, table_rows
from .rounds import adopt_orphans
from .targets import evaluate_targets, format_scaling, format_targets, scaling_pairs
from .tasks import TASKS

DESCRIPTION = """Benchmark batchproc against its peers and print one table of medians, ratios and PSNR.

batchproc is installed as the README says (--installs): a wheel of the source tree, built once a
run, into fresh virtual environments: `pip install '.[vips]'` (vips) and `pip install .` (plain);
`beside` is the batchproc installed beside this Python. The image, startup and startmethod tasks
have rows for every install; the other tasks run the first.

Tasks (default: image,small,startup,startmethod; memory and incremental only when asked for):
  image        100 copies of the 2725x2225 sharp benchmark JPEG -> 720x588 Lanczos, JPEG q80,
               2 workers per contender; PSNR against a full-resolution Pillow LANCZOS reference.
               Pure-CPU spins (1 process twice vs 2 at once) run in the same rounds: the
               machine's own 2-core ceiling, reported beside batchproc's --jobs 1/2 scaling.
  small        sha256 of 20,000 files of 1-4 KB: batchproc checksum vs xargs -P2 / GNU parallel.
  startup      python -c 'import typer', batchproc --help and batchproc resize on an empty folder,
               from each install's environment; python -c pass as floor.
  startmethod  the image task and the time to the first --json line over the photo tree, under
               --start-method fork, forkserver and spawn; the differences from fork.
  memory       batchproc checksum over 200,000 empty files: parent peak RSS, time to first line,
               stdout a terminal and a pipe.
  incremental  batchproc resize over 10,000 photo-like 800x600 JPEGs, then re-runs over the
               unchanged tree.

Contenders run round-robin (one run of each per round, starting point rotated every round),
and the table reports wall-clock medians. A contender whose tool is missing is skipped with a note."""


def parse_tasks(text: str) -> tuple[str, ...]:
    """Comma-separated task names, or 'all'."""
    names = ALL_TASKS if text == "all" else tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in names if t not in ALL_TASKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown task(s) {unknown}; choose from {', '.join(ALL_TASKS)} or all")
    return names


def parse_installs(text: str) -> tuple[str, ...]:
    """Comma-separated install kinds."""
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in INSTALLS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown install(s) {unknown}; choose from {', '.join(INSTALLS)}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    """The options of bench/run.py."""
    ap = argparse.ArgumentParser(prog="python bench/run.py", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog="See bench/README.md.")
    ap.add_argument("--rounds", type=int, default=5, help="rounds for fast contenders (default 5; start-up gets 4x)")
    ap.add_argument("--slow-rounds", type=int, default=1, help="rounds for slow contenders: mogrify, gm (default 1)")
    ap.add_argument("--skip-slow", action="store_true", help="skip ImageMagick and GraphicsMagick")
    ap.add_argument("--only", type=parse_tasks, default=DEFAULT_TASKS,
                    help=f"comma-separated tasks from {','.join(ALL_TASKS)}, or all (default {','.join(DEFAULT_TASKS)})")
    ap.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="source JPEG (default ../shared/bench/sharp-bench-2725x2225.jpg)")
    ap.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR,
                    help="scratch folder for inputs and outputs (default $BENCH_DIR or /tmp/batchproc-bench)")
    ap.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS,
                    help="where install-peers.sh put sharp (default $BATCHPROC_PEERS_DIR or ../peers)")
    ap.add_argument("--installs", type=parse_installs, default=DEFAULT_INSTALLS,
                    help=f"batchproc installs to measure, the first one also in small, memory and incremental: "
                         f"{','.join(INSTALLS)} (default {','.join(DEFAULT_INSTALLS)})")
    ap.add_argument("--source", type=Path, default=REPO,
                    help="the batchproc tree the plain and vips installs are built from (default: this checkout, "
                         "uncommitted changes included)")
    ap.add_argument("--batchproc", help="command that starts the `beside` install, which it adds to --installs "
                                        "(default: the batchproc script beside this Python, else batchproc on PATH, "
                                        "else python -m batchproc)")
    ap.add_argument("--copies", type=int, default=100, help="image task: copies of the JPEG (default 100)")
    ap.add_argument("--small-files", type=int, default=20_000, help="small task: number of files (default 20000)")
    ap.add_argument("--memory-files", type=int, default=200_000, help="memory task: number of empty files (default 200000)")
    ap.add_argument("--incremental-files", type=int, default=10_000, help="incremental task: number of JPEGs (default 10000)")
    ap.add_argument("--json", type=Path, help="also write raw timings to this file")
    ap.add_argument("--markdown", type=Path, help="also write the report (date, command, machine, table, targets) as Markdown")
    return ap


def parse_args(argv: list[str] | None = None) -> Config:
    """Command line to Config."""
    ap = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.slow_rounds < 1:
        ap.error("--rounds and --slow-rounds must be at least 1")
    if "image" in a.only and not a.image.is_file():
        ap.error(f"image not found: {a.image} (use --image PATH)")
    if not (a.source / "pyproject.toml").is_file():
        ap.error(f"not a batchproc source tree: {a.source} (use --source PATH)")
    kinds = a.installs + (("beside",) if a.batchproc and "beside" not in a.installs else ())
    return Config(a.rounds, a.slow_rounds, a.skip_slow, a.only, a.image.resolve(), a.bench_dir.resolve(),
                  a.peers_dir.resolve(), a.copies, a.small_files, a.memory_files, a.incremental_files, None, "",
                  a.json, a.markdown, shlex.join(["python", "bench/run.py", *argv]), kinds, a.batchproc,
                  a.source.resolve())


def main(argv: list[str] | None = None) -> int:
    """Run the selected tasks and print the report."""
    cfg = parse_args(argv)
    # Contenders start as a user's install would: with their bytecode cached. A shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise make every start of a source checkout recompile
    # batchproc (about 35 ms here), which pip-installed copies never do.
    bytecode_off = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None
    adopted = adopt_orphans()
    cfg.bench_dir.mkdir(parents=True, exist_ok=True)
    print("== installs", flush=True)
    cfg = build_installs(cfg)
    machine = machine_info(cfg)
    if bytecode_off:
        machine["bytecode"] = "PYTHONDONTWRITEBYTECODE was set: unset for the contenders"
    machine["cpu s"] = ("whole process tree, processes that outlive their parent included (adopted as subreaper)"
                        if adopted else "waited-for processes only: a forkserver's workers are not counted")
    print("\n" + format_machine(machine), end="\n\n")
    if not cfg.batchproc:
        print(f"note: batchproc ({cfg.install_kinds[0]}) {cfg.batchproc_note}; its contenders are skipped\n")
    task_results, noise = {}, {}
    for task in cfg.tasks:
        print(f"== {task}", flush=True)
        before = snapshot()
        task_results[task] = TASKS[task](cfg)
        noise[task] = describe(before, snapshot())
        print(f"  while it ran: {noise[task]}", flush=True)
    # Neighbours that started or stopped mid-run show as a change in load.
    machine["load average at end"] = f"{load_average()} (1, 5, 15 min)"
    machine.update({f"during {task}": text for task, text in noise.items()})
    grouped = by_task(task_results)
    table = format_table(table_rows(grouped))
    pairs = scaling_pairs(cfg, grouped)
    scaling, targets = format_scaling(pairs), evaluate_targets(cfg, grouped, pairs)
    print("\n" + table + "\n")
    for block in (scaling, format_targets(targets)):
        if block:
            print(block + "\n")
    if cfg.json_path:
        save_json(cfg, machine, grouped, targets, pairs)
    if cfg.markdown_path:
        save_markdown(cfg, format_machine(machine), table, scaling, format_targets(targets))
    return 0
