"""The start-up task: for every install, `import typer` alone, `batchproc --help` and a resize of an
empty folder, all on that install's interpreter, alternating over many rounds."""
from __future__ import annotations

import sys

from .config import Batchproc, Config
from .inputs import fresh_dir
from .records import TIME, Comparison, Contender, Job, Result
from .rounds import run_round_robin
from .tools import batchproc_job, install_suffix, installs

# Start-up is short and noisy, so it gets many more rounds than the other tasks.
ROUNDS_FACTOR, MIN_ROUNDS = 6, 20


def typer_name(kind: str) -> str:
    return f"python -c 'import typer'{install_suffix(kind)}"


def install_rows(cfg: Config, kind: str, bp: Batchproc | None, empty, headline: bool) -> list[Contender]:
    """`import typer` beside this install, and batchproc's two starts measured against it (target 11.4: 1.3x)."""
    skip = "" if bp else "this install could not be made (see the machine block)"
    python = bp.python if bp else sys.executable
    vs_typer = Comparison(typer_name(kind), "import typer", TIME, 1.3, "11.4")
    return [
        Contender("startup", typer_name(kind), lambda run: Job([python, "-c", "import typer"]), skip),
        Contender("startup", f"batchproc --help{install_suffix(kind)}", lambda run: batchproc_job(cfg, ["--help"], bp=bp),
                  skip, role="batchproc" if headline else "", compare=(vs_typer,)),
        Contender("startup", f"batchproc resize EMPTY --out OUT2{install_suffix(kind)}",
                  lambda run: batchproc_job(cfg, ["resize", str(empty), "--out", str(run / "out2")], bp=bp),
                  skip or (bp.problem if bp else ""), role="batchproc-empty" if headline else "", compare=(vs_typer,)),
    ]


def startup_task(cfg: Config) -> list[Result]:
    """Start-up cost of every install against its own `import typer`, and the bare interpreter's floor."""
    empty = fresh_dir(cfg.bench_dir / "inputs" / "empty-dir")
    contenders = [row for i, (kind, bp) in enumerate(installs(cfg)) for row in install_rows(cfg, kind, bp, empty, i == 0)]
    contenders.append(Contender("startup", "python -c pass (floor)", lambda run: Job([sys.executable, "-c", "pass"])))
    return run_round_robin(cfg, contenders, fresh_dir(cfg.bench_dir / "runs" / "startup"),
                           rounds=max(cfg.rounds * ROUNDS_FACTOR, MIN_ROUNDS))
