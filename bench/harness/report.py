"""The report: machine block, the table of medians and ratios, JSON and Markdown copies."""
from __future__ import annotations

import json
import math
import time

from .config import JOBS, QUALITY, SIZE, Config
from .records import Comparison, Result

HEADER = ["task", "contender", "runs", "median s", "min s", "cpu s", "files/s", "t/t_batchproc", "t/t_sharp", "PSNR dB",
          "compared", "notes"]
NUMERIC = set(range(2, 10))
# Tasks whose rows are not the same work as their batchproc row, so a time ratio means nothing.
NO_RATIO_TASKS = {"startup", "memory", "ceiling"}


def fmt(value: float | None, spec: str) -> str:
    """Format a number or a dash."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def by_task(task_results: dict[str, list[Result]]) -> dict[str, list[Result]]:
    """Results grouped by each contender's own task (the image rounds also carry the CPU spins)."""
    grouped: dict[str, list[Result]] = {}
    for results in task_results.values():
        for res in results:
            grouped.setdefault(res.contender.task, []).append(res)
    return grouped


def reference_median(results: list[Result], role: str) -> float | None:
    """Median of the contender playing `role` in the same task."""
    return next((r.median for r in results if r.contender.role == role and r.median), None)


def comparisons(res: Result, medians: dict[str, float]) -> list[tuple[Comparison, float, str]]:
    """(comparison, value, text) of every comparison of a row whose two medians exist."""
    t = res.median
    return [(c, c.value(t, medians[c.other]), c.describe(t, medians[c.other]))
            for c in res.contender.compare if t and medians.get(c.other)]


def task_medians(results: list[Result]) -> dict[str, float]:
    """Median by contender name, for the rows that ran."""
    return {r.contender.name: r.median for r in results if r.median}


def result_row(task: str, res: Result, bp: float | None, sharp: float | None, medians: dict[str, float]) -> list[str]:
    """One row of the table."""
    med = res.median
    rate = res.files / med if med and res.files else None
    return [
        task, res.contender.name, str(len(res.times)), fmt(med, ".3f"), fmt(min(res.times) if res.times else None, ".3f"),
        fmt(res.cpu_median, ".2f"), fmt(rate, ",.0f"), fmt(med / bp if med and bp else None, ".2f"),
        fmt(med / sharp if med and sharp else None, ".2f"), fmt(res.psnr, ".2f"),
        "; ".join(text for _, _, text in comparisons(res, medians)) or "-", "; ".join(res.notes),
    ]


def table_rows(grouped: dict[str, list[Result]]) -> list[list[str]]:
    """Rows of the summary table."""
    rows = []
    for task, results in grouped.items():
        bp = None if task in NO_RATIO_TASKS else reference_median(results, "batchproc")
        sharp = reference_median(results, "sharp")
        medians = task_medians(results)
        rows.extend(result_row(task, res, bp, sharp, medians) for res in results)
    return rows


def format_table(rows: list[list[str]]) -> str:
    """Rows under a header with aligned columns, and what the columns mean."""
    numeric = NUMERIC
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER) - 1)]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts + [cells[-1]]).rstrip()

    lines = [line(HEADER), line(["-" * w for w in widths] + ["-----"]), *(line(r) for r in rows), "",
             "t/t_X = this contender's median wall time divided by X's (same task): above 1 is slower than X.",
             "cpu s = median user+system seconds of the whole process tree (workers included).",
             "compared: against another row of the same task; throughput = t_other/t, time = t/t_other.",
             "PSNR: RGB, against a full-resolution Pillow LANCZOS resize of the original (no draft), first copy."]
    return "\n".join(lines)


def format_machine(info: dict[str, str]) -> str:
    """The machine block at the top of the report."""
    width = max(len(k) for k in info)
    return "\n".join(["Machine", *(f"  {key:<{width}}  {value}" for key, value in info.items())])


def save_json(cfg: Config, machine: dict, grouped: dict[str, list[Result]], targets: list, scaling: list) -> None:
    """Write raw timings and notes to --json FILE."""
    data = {
        "machine": machine,
        "config": {"rounds": cfg.rounds, "slow_rounds": cfg.slow_rounds, "skip_slow": cfg.skip_slow, "image": str(cfg.image),
                   "installs": list(cfg.install_kinds), "source": str(cfg.source),
                   "copies": cfg.copies, "small_files": cfg.small_files, "memory_files": cfg.memory_files,
                   "incremental_files": cfg.incremental_files, "size": list(SIZE), "quality": QUALITY, "jobs": JOBS},
        "results": {
            task: [{"contender": r.contender.name, "times": r.times, "cpu_times": r.cpu_times, "median": r.median,
                    "files": r.files, "psnr": r.psnr, "notes": r.notes, "extra": r.extra,
                    "compared": [{"other": c.other, "kind": c.kind, "value": value, "text": text, "target": c.target}
                                 for c, value, text in comparisons(r, task_medians(results))]} for r in results]
            for task, results in grouped.items()
        },
        "scaling": scaling,
        "targets": [{"target": t, "measured": m, "verdict": v} for t, m, v in targets],
    }
    cfg.json_path.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nraw timings written to {cfg.json_path}")


def save_markdown(cfg: Config, machine: str, table: str, scaling: str, targets: str) -> None:
    """Write the report as Markdown to --markdown FILE: date, command, machine, table, targets."""
    fence = "```"
    parts = [
        "# Benchmark results", "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} with:", "", fence, cfg.command, fence, "",
        "## Machine", "", fence, machine, fence, "",
        "## Table", "", fence, table, fence, "",
        "## Targets", "", fence, targets, "", scaling, fence, "",
    ]
    cfg.markdown_path.write_text("\n".join(parts))
    print(f"report written to {cfg.markdown_path}")
