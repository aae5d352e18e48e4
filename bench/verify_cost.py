"""What checking an output costs on the image task: sharp's 2725x2225 benchmark JPEG resized
to 720x588 at quality 80, each engine, in one process.

Per picture, the median over RUNS: the step (`process`), its default check (`verify`, not
thorough: a JPEG decoded at 1/8 scale) and, for comparison, a full Pillow decode of the same
output; in CPU time (the step's of the whole process, libvips' threads included; the checks'
of the thread that runs them), which a busy machine disturbs less than wall time.

    python bench/verify_cost.py [IMAGE] [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from batchproc.image.verify import Expected, check_output
from batchproc_plugins.resize import Resize

DEFAULT_IMAGE = Path(__file__).resolve().parent.parent.parent / "shared/bench/sharp-bench-2725x2225.jpg"


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else DEFAULT_IMAGE
    runs = int(argv[1]) if len(argv) > 1 else 60
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "out.jpg"
        for engine in ("auto", "pillow"):
            step = Resize(size="720x588", quality=80, engine=engine)
            times: dict[str, list[float]] = {"step": [], "check": [], "full": []}
            for index in range(runs + 3):
                started = time.process_time()
                data = step.process(source, output)
                processed = time.process_time()
                # The checks decode in this thread alone; libvips' own threads may still be
                # finishing the step's work meanwhile, which the process's clock would charge
                # to the check: read this thread's clock for them.
                check_started = time.thread_time()
                step.verify([output], data, thorough=False)
                checked = time.thread_time()
                check_output(output, Expected("jpeg", (data["width"], data["height"])),
                             thorough=True, max_pixels=10**9, libvips=False)
                if index >= 3:  # the first runs warm caches up
                    times["step"].append(processed - started)
                    times["check"].append(checked - check_started)
                    times["full"].append(time.thread_time() - checked)
            step_ms, check_ms, full_ms = (statistics.median(times[key]) * 1000 for key in times)
            print(f"engine {engine} ({data.get('engine')}): step {step_ms:.1f} ms, default check "
                  f"{check_ms:.2f} ms ({100 * check_ms / step_ms:.1f}% of the step), "
                  f"full Pillow decode {full_ms:.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
