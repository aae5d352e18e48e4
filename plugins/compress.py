"""The compress step: gzip (or zstd) each file, atomically, optionally removing the input."""

from __future__ import annotations

import importlib
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import Step, StepError, hookimpl
from batchproc.errors import UsageError

COMPRESS = "Compression options"
EXTENSIONS = {"gzip": ".gz", "zstd": ".zst"}
LEVELS = {"gzip": (1, 9, 6), "zstd": (1, 22, 3)}  # lowest, highest, default (the tools' own)
_BUFFER = 1 << 20


class Compress(Step):
    """Compress files with gzip (a.log -> a.log.gz) or zstd (a.log -> a.log.zst).

    Outputs appear atomically. By default they go to a new folder beside the input folder
    (logs -> logs_compressed) and the inputs stay; --in-place writes each output beside its
    input, like gzip, and --no-keep then removes each input once its output is safely in
    place (written, flushed to disk and renamed), which together is gzip's own behaviour.
    The output gets the input's permissions; the gzip header keeps its name and time. Files
    already ending in .gz (or .zst) are skipped. zstd needs the zstandard module (pip install
    zstandard) or Python 3.14.

    Example: batchproc compress ./logs --in-place --no-keep --level 9
    """

    name = "compress"
    summary = "Compress files with gzip or zstd, atomically."
    accepts = "already compressed"
    output_suffix = "_compressed"
    max_chunk = 16

    def __init__(
        self,
        method: Annotated[Literal["gzip", "zstd"], typer.Option(
            "--format", help="gzip, or zstd (with the zstandard module or Python 3.14).",
            rich_help_panel=COMPRESS)] = "gzip",
        level: Annotated[Optional[int], typer.Option(
            "--level", "-l", help="Compression level: gzip 1-9 (default 6), zstd 1-22 (default 3).",
            show_default=False, rich_help_panel=COMPRESS)] = None,
        keep: Annotated[bool, typer.Option(
            "--keep/--no-keep", help="Keep the input files (--no-keep removes each once its "
            "output is safely in place).", rich_help_panel=COMPRESS)] = True,
    ) -> None:
        super().__init__(method=method, level=level, keep=keep)
        lowest, highest, default = LEVELS[method]
        if level is not None and not lowest <= level <= highest:
            raise UsageError(f"--level for {method} must be from {lowest} to {highest}, not {level}")
        self.method = method
        self.level = default if level is None else level
        self.keep = keep
        self.extension = EXTENSIONS[method]
        if method == "zstd":
            require_zstd()  # fail now, as a usage error, not once per file

    def accepts_file(self, name: str) -> bool:
        return not name.lower().endswith((".gz", ".zst"))

    def output_name(self, name: str) -> str:
        return name + self.extension

    def process(self, source: Path, target: Path) -> dict:
        self._input_size = os.stat(source).st_size
        with open(source, "rb") as reader, open(target, "wb") as writer:
            if self.method == "gzip":
                import gzip

                mtime = int(os.fstat(reader.fileno()).st_mtime)
                # The header names the input, never the temporary file being written.
                with gzip.GzipFile(filename=source.name, mode="wb", fileobj=writer,
                                   compresslevel=self.level, mtime=mtime) as packed:
                    shutil.copyfileobj(reader, packed, _BUFFER)
            else:
                compress_zstd(reader, writer, self.level)
            if not self.keep:
                writer.flush()
                os.fsync(writer.fileno())  # on disk before the input may go
        return {"format": self.method}

    def verify(self, outputs: list[Path], data: dict, *, thorough: bool) -> None:
        """Decompress the output in full (its checksum checked) and count what comes out: the
        cheapest proof that it holds the whole input."""
        expected = getattr(self, "_input_size", None)
        for output in outputs:
            size = decompressed_size(output, self.method)
            if expected is not None and size != expected:
                raise StepError(f"{size} bytes decompress from it, the input has {expected}")

    def after_publish(self, source: Path, outputs: list[Path]) -> None:
        """Give the output the input's permissions; with --no-keep, remove the input."""
        mode = stat.S_IMODE(os.stat(source).st_mode)
        for output in outputs:
            os.chmod(output, mode)
        if self.keep or source in outputs:
            return
        folder = os.open(outputs[0].parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename is durable before the only other copy goes
        finally:
            os.close(folder)
        os.unlink(source)


def compress_zstd(reader, writer, level: int) -> None:
    """zstd through the zstandard module, else Python 3.14's compression.zstd."""
    try:
        import zstandard
    except ImportError:
        from compression import zstd

        with zstd.ZstdFile(writer, "wb", level=level) as packed:
            shutil.copyfileobj(reader, packed, _BUFFER)
        return
    compressor = zstandard.ZstdCompressor(level=level, write_checksum=True)
    compressor.copy_stream(reader, writer, size=os.fstat(reader.fileno()).st_size,
                           read_size=_BUFFER, write_size=_BUFFER)


def decompressed_size(path: Path, method: str) -> int:
    """Decompress a gzip or zstd file in full, its checksum checked; StepError if it is damaged."""
    try:
        with open(path, "rb") as raw, _decompressing(raw, method) as reader:
            size = 0
            while chunk := reader.read(_BUFFER):
                size += len(chunk)
            return size
    except Exception as error:  # gzip, zlib and zstandard each have their own error types
        if isinstance(error, OSError) and error.errno:
            raise
        raise StepError(f"{method} cannot decompress it ({str(error).strip() or 'damaged'})") from None


def _decompressing(raw, method: str):
    if method == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    try:
        import zstandard
    except ImportError:
        from compression import zstd

        return zstd.ZstdFile(raw, "rb")
    return zstandard.ZstdDecompressor().stream_reader(raw, read_size=_BUFFER)


def require_zstd() -> None:
    """A usage error, saying how to get one, when nothing here writes zstd."""
    for name in ("zstandard", "compression.zstd"):
        try:
            importlib.import_module(name)
            return
        except ImportError:
            continue
    raise UsageError("zstd needs the zstandard module (pip install zstandard) or Python 3.14; "
                     "or use --format gzip")


@hookimpl
def register_steps(register):
    register(Compress)
