"""The performance issue's targets, each with its measured value and PASS/FAIL, and the scaling block."""
from __future__ import annotations

from typing import Callable

from . import contenders as names
from .incremental import FIRST, RERUN
from .memory import PIPE, TERMINAL
from .records import Result

Verdict = tuple[str, str, str]


def find_result(grouped: dict[str, list[Result]], task: str, name: str) -> Result | None:
    """A result with at least one run, by task and contender name."""
    return next((r for r in grouped.get(task, []) if r.contender.name == name and r.times), None)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing."""
    return a / b if a is not None and b else None


class Lookup:
    """Reads medians, PSNRs and extras out of grouped results."""

    def __init__(self, grouped: dict[str, list[Result]]):
        self.grouped = grouped

    def median(self, task: str, name: str) -> float | None:
        """Median wall time of one contender."""
        res = find_result(self.grouped, task, name)
        return res.median if res else None

    def psnr(self, task: str, name: str) -> float | None:
        """PSNR of one contender's output."""
        res = find_result(self.grouped, task, name)
        return res.psnr if res else None

    def extra(self, task: str, name: str, key: str) -> float | None:
        """One figure a task recorded beside the timings."""
        res = find_result(self.grouped, task, name)
        return res.extra.get(key) if res else None


def scaling_pairs(grouped: dict[str, list[Result]]) -> list[dict]:
    """Speed-up of 2 processes over 1 for batchproc, the bare Pillow Pool and the CPU spins."""
    look, pairs = Lookup(grouped), []
    for label, task, one, two in names.SCALING_PAIRS:
        t1, t2 = look.median(task, one), look.median(task, two)
        # If a run is a fixed part F plus work W that 2 processes halve, t1 = F + W and
        # t2 = F + W/2, so F = 2*t2 - t1: the seconds that 2 cores did not shorten.
        fixed = 2 * t2 - t1 if t1 is not None and t2 is not None else None
        pairs.append({"pair": label, "t1": t1, "t2": t2, "speedup": ratio(t1, t2), "fixed_s": fixed})
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


def evaluate_targets(grouped: dict[str, list[Result]]) -> list[Verdict]:
    """The issue's targets for the tasks that ran: (target, measured, PASS/FAIL/n/a)."""
    look, out = Lookup(grouped), []

    def add(target: str, measured: float | None, ok: Callable[[float], bool], unit: str) -> None:
        task = target.split(":")[0].split()[-1]  # "4 image: ..." -> "image"
        if task not in grouped:
            return
        verdict = "n/a" if measured is None else ("PASS" if ok(measured) else "FAIL")
        out.append((target, "-" if measured is None else f"{measured:.3f}{unit}", verdict))

    bp, sharp = look.median("image", names.BATCHPROC), look.median("image", names.SHARP)
    psnr_bp, psnr_sharp = look.psnr("image", names.BATCHPROC), look.psnr("image", names.SHARP)
    add("1 image: batchproc throughput >= sharp's (t_sharp/t_batchproc)", ratio(sharp, bp), lambda v: v >= 1, "x")
    add("1 image: PSNR batchproc - PSNR sharp >= -0.3 dB",
        psnr_bp - psnr_sharp if psnr_bp is not None and psnr_sharp is not None else None, lambda v: v >= -0.3, " dB")
    add("2 image: --engine pillow within 5% of bare Pillow Pool (t_batchproc/t_pool)",
        ratio(look.median("image", names.BATCHPROC_PILLOW), look.median("image", names.PILLOW_POOL)), lambda v: v <= 1.05, "x")
    add("3 small: checksum no slower than xargs -P2 sha256sum (t_batchproc/t_xargs)",
        ratio(look.median("small", names.CHECKSUM), look.median("small", names.XARGS_SHA)), lambda v: v <= 1.0, "x")
    add("4 image: --jobs 2 >= 1.9x --jobs 1 (t_j1/t_j2)",
        ratio(look.median("image", names.BATCHPROC_J1), bp), lambda v: v >= 1.9, "x")
    add("5 startup: batchproc --help <= 0.25 s", look.median("startup", names.HELP), lambda v: v <= 0.25, " s")
    add("5 startup: batchproc resize EMPTY <= 0.25 s", look.median("startup", names.EMPTY_RUN), lambda v: v <= 0.25, " s")
    rss = [v for v in (look.extra("memory", n, "peak_rss_mb") for n in (TERMINAL, PIPE)) if v is not None]
    add("6 memory: parent peak RSS < 100 MB", max(rss) if rss else None, lambda v: v < 100, " MB")
    add("6 memory: first line within 1 s, stdout a terminal", look.extra("memory", TERMINAL, "first_line_s"),
        lambda v: v <= 1.0, " s")
    add("6 memory: first line within 1 s, stdout a pipe", look.extra("memory", PIPE, "first_line_s"), lambda v: v <= 1.0, " s")
    add("7 incremental: re-run <= 5% of first run (t_rerun/t_first)",
        ratio(look.median("incremental", RERUN), look.median("incremental", FIRST)), lambda v: v <= 0.05, "x")
    return out


def format_targets(targets: list[Verdict]) -> str:
    """The target checklist."""
    if not targets:
        return ""
    width = max(len(t[0]) for t in targets)
    lines = ["Targets (from the performance issue)"]
    lines += [f"  {target:<{width}}  {measured:>10}  {verdict}" for target, measured, verdict in targets]
    return "\n".join(lines)
