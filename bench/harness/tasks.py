"""The round-robin tasks (image with the machine's ceiling, small files) and the registry of all tasks."""
from __future__ import annotations

from typing import Callable

from .config import Config
from .contenders import ceiling_contenders, image_contenders, small_contenders
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
    return run_round_robin(cfg, small_contenders(cfg, src), fresh_dir(cfg.bench_dir / "runs" / "small"),
                           files=cfg.small_files)


TASKS: dict[str, Callable[[Config], list[Result]]] = {
    "image": image_task,
    "small": small_task,
    "startup": startup_task,
    "startmethod": start_method_task,
    "memory": memory_task,
    "incremental": incremental_task,
}
