"""The issues' targets, each with its measured value and PASS/FAIL, and the scaling block.

A target is named by its issue and number: 14.1 is target 1 of issue 14. Most are comparisons
the rows carry (records.Comparison); the others are read here from the rows they concern.
"""
from __future__ import annotations

from typing import Callable

from . import contenders as names
from .config import Config
from .incremental import FIRST, RERUN
from .memory import PIPE, TERMINAL
from .records import Result
from .report import task_medians

Verdict = tuple[str, str, str]
HEADING = "Targets (issue.number: 5 the first performance issue, 11 start-up, 14 performance II, 16 start methods)"
PSNR_SLACK_DB = -0.3  # 14.1: PSNR no lower than sharp's minus 0.3 dB
CEILING_SLACK = 0.03  # 14.5: --jobs 2 / --jobs 1 within 0.03 of the machine's own ceiling
PARENT_US_PER_FILE, WORKER_US_PER_FILE = 8, 25  # 14.3: CPU per small file, checksum


def find_result(grouped: dict[str, list[Result]], task: str, key: str) -> Result | None:
    """A result with at least one run, by task and contender name or role."""
    return next((r for r in grouped.get(task, []) if key in (r.contender.name, r.contender.role) and r.times), None)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing."""
    return a / b if a is not None and b else None


class Lookup:
    """Reads medians, PSNRs and extras out of grouped results, by name or role."""

    def __init__(self, grouped: dict[str, list[Result]]):
        self.grouped = grouped

    def median(self, task: str, key: str) -> float | None:
        res = find_result(self.grouped, task, key)
        return res.median if res else None

    def psnr(self, task: str, key: str) -> float | None:
        res = find_result(self.grouped, task, key)
        return res.psnr if res else None

    def cpu(self, task: str, key: str) -> tuple[float | None, float | None]:
        """Median CPU seconds of the command's own process and of the rest of its tree."""
        res = find_result(self.grouped, task, key)
        if not res or res.own_cpu_median is None or res.cpu_median is None:
            return None, None
        return res.own_cpu_median, res.cpu_median - res.own_cpu_median

    def extra(self, task: str, key: str, field: str) -> float | None:
        res = find_result(self.grouped, task, key)
        return res.extra.get(field) if res else None


def scaling_pairs(cfg: Config, grouped: dict[str, list[Result]]) -> list[dict]:
    """Speed-up of 2 processes over 1 for batchproc, the bare Pillow Pool and the CPU spins."""
    look, pairs = Lookup(grouped), []
    for label, task, one, two in names.scaling_pairs(cfg):
        t1, t2 = look.median(task, one), look.median(task, two)
        # If a run is a fixed part F plus work W that 2 processes halve, t1 = F + W and
        # t2 = F + W/2, so F = 2*t2 - t1: the seconds that 2 cores did not shorten.
        fixed = 2 * t2 - t1 if t1 is not None and t2 is not None else None
        pairs.append({"pair": label, "task": task, "t1": t1, "t2": t2, "speedup": ratio(t1, t2), "fixed_s": fixed})
    return pairs


def format_scaling(pairs: list[dict]) -> str:
    """The scaling block: what 2 processes gain over 1, for batchproc and for the machine itself."""
    if all(p["speedup"] is None for p in pairs):
        return ""
    width = max(len(p["pair"]) for p in pairs)
    lines = ["Scaling on this machine, same rounds: speed-up t1/t2, and 2*t2 - t1 (the seconds 2 cores did not shorten)"]
    for p in pairs:
        if p["speedup"] is None:
            lines.append(f"  {p['pair']:<{width}}  -")
        else:
            lines.append(f"  {p['pair']:<{width}}  {p['speedup']:.2f}x   t1 {p['t1']:.3f} s, t2 {p['t2']:.3f} s, "
                         f"2*t2 - t1 = {p['fixed_s']:.3f} s")
    return "\n".join(lines)


def compared_targets(grouped: dict[str, list[Result]]) -> list[tuple[str, float | None, Callable, str]]:
    """Every comparison that carries a target (14.1-14.3, 11.4, 16), plus 14.1's PSNR beside sharp's."""
    look, found = Lookup(grouped), []
    for task, results in grouped.items():
        medians = task_medians(results)
        for res in results:
            for c in res.contender.compare:
                if not c.target:
                    continue
                t, other = medians.get(res.contender.name), medians.get(c.other)
                found.append((f"{c.target} {task}: {res.contender.name}: {c.requirement()}",
                              c.value(t, other) if t and other else None, c.met, c.unit()))
                if c.other == names.SHARP:
                    mine, sharp = res.psnr, look.psnr(task, names.SHARP)
                    found.append((f"{c.target} {task}: {res.contender.name}: PSNR - sharp's >= {PSNR_SLACK_DB} dB",
                                  mine - sharp if mine is not None and sharp is not None else None,
                                  lambda v: v >= PSNR_SLACK_DB, " dB"))
    return found


def evaluate_targets(cfg: Config, grouped: dict[str, list[Result]], pairs: list[dict]) -> list[Verdict]:
    """The issues' targets for the tasks that ran: (target, measured, PASS/FAIL/n/a), by issue and number."""
    look = Lookup(grouped)
    checks = compared_targets(grouped)
    speedups = {p["pair"]: p["speedup"] for p in pairs}
    ceilings = [s for p, s in speedups.items() if s is not None and p.startswith(tuple(names.SPINS.values()))]
    ours = ratio(look.median("image", "batchproc-j1"), look.median("image", "batchproc"))
    ceiling = max(ceilings, default=None)  # the best the machine gives pure CPU work on 2 processes
    checks.append((f"14.5 image: --jobs 2 / --jobs 1 within {CEILING_SLACK} of the machine's ceiling"
                   + (f" ({ceiling:.3f}x)" if ceiling else ""),
                   ours if ceiling else None, lambda v: v >= ceiling - CEILING_SLACK, "x"))
    for index, (what, limit) in enumerate((("parent", PARENT_US_PER_FILE), ("workers", WORKER_US_PER_FILE))):
        # (CPU over all the files - CPU over a tenth of them) / the files between
        full, tenth = look.cpu("small", names.CHECKSUM)[index], look.cpu("small", names.CHECKSUM_TENTH)[index]
        files = cfg.small_files - (find_result(grouped, "small", names.CHECKSUM_TENTH) or Result(None, 0)).files
        per_file = (full - tenth) / files * 1e6 if full is not None and tenth is not None and files > 0 else None
        checks.append((f"14.3 small: checksum's {what} CPU per file <= {limit} us", per_file,
                       lambda v, limit=limit: v <= limit, " us"))
    for key, what in (("batchproc", "batchproc --help"), ("batchproc-empty", "batchproc resize EMPTY")):
        checks.append((f"5.5 startup: {what} <= 0.25 s", look.median("startup", key), lambda v: v <= 0.25, " s"))
    rss = [v for v in (look.extra("memory", n, "peak_rss_mb") for n in (TERMINAL, PIPE)) if v is not None]
    checks.append(("14.5 memory: parent peak RSS < 100 MB", max(rss) if rss else None, lambda v: v < 100, " MB"))
    for name, where in ((TERMINAL, "a terminal"), (PIPE, "a pipe")):
        checks.append((f"14.5 memory: first line within 1 s, stdout {where}", look.extra("memory", name, "first_line_s"),
                       lambda v: v <= 1.0, " s"))
    checks.append(("14.5 incremental: re-run <= 5% of first run (t_rerun/t_first)",
                   ratio(look.median("incremental", RERUN), look.median("incremental", FIRST)), lambda v: v <= 0.05, "x"))
    out = []
    for target, measured, ok, unit in checks:
        if target.split(":")[0].split()[-1] not in grouped:
            continue  # the task did not run
        verdict = "n/a" if measured is None else ("PASS" if ok(measured) else "FAIL")
        out.append((target, "-" if measured is None else f"{measured:.3f}{unit}", verdict))
    return sorted(out, key=lambda v: tuple(int(n) for n in v[0].split()[0].split(".")))


def format_targets(targets: list[Verdict]) -> str:
    """The target checklist."""
    if not targets:
        return ""
    width = max(len(t[0]) for t in targets)
    lines = [HEADING]
    lines += [f"  {target:<{width}}  {measured:>10}  {verdict}" for target, measured, verdict in targets]
    return "\n".join(lines)
