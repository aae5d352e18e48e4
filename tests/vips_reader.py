"""libvips, for tests, in a process of its own: `read` decodes files, `write` makes them.

Tests never run libvips in the pytest process itself: batchproc's workers are forked from it,
and a child forked from a process whose libvips threads have run can hang in libvips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def vips_read(*paths) -> dict[str, dict]:
    """For each path: {"ok": True, "size": [w, h], "pages": n} once libvips has decoded every
    pixel of every page, else {"ok": False, "error": ...}."""
    return _run("read", [str(path) for path in paths])


def vips_write(source, target, **options) -> None:
    """Write `source` (any file libvips reads) to `target` with tiffsave/pngsave... options;
    `cast` (a band format) and `colourspace` change the pixels first."""
    result = _run("write", [str(source), str(target), options])
    if not result["ok"]:
        raise RuntimeError(result["error"])


def _run(command: str, arguments: list) -> dict:
    completed = subprocess.run([sys.executable, __file__, command, json.dumps(arguments)],
                               capture_output=True, text=True, timeout=120)
    if completed.returncode:
        raise RuntimeError(completed.stderr[-2000:])
    return json.loads(completed.stdout)


def _read(paths: list[str]) -> dict:
    import pyvips

    results = {}
    for path in paths:
        try:
            header = pyvips.Image.new_from_file(path)
            pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
            if Path(path).suffix.lower() not in (".tif", ".tiff"):
                pages = 1  # an animation's frames are one picture here
            for page in range(pages):
                image = pyvips.Image.new_from_file(path, fail_on="error", **({"page": page} if pages > 1 else {}))
                image.avg()
            results[path] = {"ok": True, "size": [header.width, header.height], "pages": pages}
        except pyvips.Error as error:
            results[path] = {"ok": False, "error": f"{error.message} {error.detail}".strip()}
    return results


def _write(source: str, target: str, options: dict) -> dict:
    import pyvips

    try:
        image = pyvips.Image.new_from_file(source)
        if "colourspace" in options:
            image = image.colourspace(options.pop("colourspace"))
        if "cast" in options:
            cast = options.pop("cast")
            image = (image.cast(cast) * (257 if cast == "ushort" else 1 / 255 if cast == "float" else 1)).cast(cast)
        image.write_to_file(target, **options)
    except pyvips.Error as error:
        return {"ok": False, "error": f"{error.message} {error.detail}".strip()}
    return {"ok": True}


if __name__ == "__main__":
    arguments = json.loads(sys.argv[2])
    print(json.dumps(_read(arguments) if sys.argv[1] == "read" else _write(*arguments)))
