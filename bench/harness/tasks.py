"""The round-robin tasks (image with the machine's ceiling, small files) and the registry of all tasks."""
from __future__ import annotations

from typing import Callable

from .config import MANY_SMALL_ROUNDS, Config
from .contenders import CHECKSUM, CHECKSUM_TENTH, ceiling_contenders, image_contenders, many_small_contenders, small_contenders
from .incremental import incremental_task
from .inputs import build_image_inputs, build_small_inputs, fresh_dir
from .memory import memory_task
from .quality import measure_quality
from .records import Result
from .rounds import check_outputs, run_round_robin
from .start_methods import start_method_task
from .startup import startup_task


def image_task(cfg: Config) -> list[Result]:
    """The sharp benchmark JPEG over N copies, 2 workers each, with PSNR; the CPU spins alternate with it."""
    src = build_image_inputs(cfg)
    # The spins run in the same rounds as the image contenders, so both see the same neighbours.
    contenders = image_contenders(cfg, src) + ceiling_contenders()
    results = run_round_robin(cfg, contenders, fresh_dir(cfg.bench_dir / "runs" / "image"), files=cfg.copies)
    for res in results:
        if res.contender.task == "ceiling":
            res.files = 0  # the spins process no files: no files/s for them
    images = [r for r in results if r.contender.task == "image"]
    check_outputs(images, cfg.copies)
    measure_quality(images, cfg.image)
    return results


def small_task(cfg: Config) -> list[Result]:
    """sha256 over many 1-4 KB files, manifest to /dev/null (checked against sha256sum's after the rounds)."""
    src = build_small_inputs(cfg)
    folders = sorted(path for path in src.iterdir() if path.is_dir())
    tenth = folders[:max(1, len(folders) // 10)]
    results = run_round_robin(cfg, small_contenders(cfg, src, tenth), fresh_dir(cfg.bench_dir / "runs" / "small"),
                              files=cfg.small_files)
    for res in results:
        if res.contender.name == CHECKSUM_TENTH:
            res.files = sum(1 for folder in tenth for _ in folder.iterdir())
        if res.contender.name in (CHECKSUM, CHECKSUM_TENTH) and res.own_cpu_median is not None:
            res.notes.append(f"parent cpu {res.own_cpu_median:.2f} s")
    return results


def many_small_task(cfg: Config) -> list[Result]:
    """The small task's checksum over 200,000 files, against xargs only (at most 3 rounds)."""
    src = build_small_inputs(cfg, cfg.many_small_files, "many-small")
    return run_round_robin(cfg, many_small_contenders(cfg, src), fresh_dir(cfg.bench_dir / "runs" / "manysmall"),
                           rounds=min(cfg.rounds, MANY_SMALL_ROUNDS), files=cfg.many_small_files)


TASKS: dict[str, Callable[[Config], list[Result]]] = {
    "image": image_task,
    "small": small_task,
    "manysmall": many_small_task,
    "startup": startup_task,
    "startmethod": start_method_task,
    "memory": memory_task,
    "incremental": incremental_task,
}
