"""Judging one file after one step, from its record and the readings of its outputs: ok,
failed with a reason in words, or UNREADABLE."""

from __future__ import annotations

import re

from .cases import EXTENSIONS, CorpusFile
from .steps import FORMAT_NAMES, StepCommand


#: "TypeError: ...", "struct.error: ...", "MemoryError": a Python exception, not a reason.
EXCEPTION_NAME = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning|Exit|"
                            r"Interrupt)|error)\b\s*(?::|$)")


def reason_problem(error) -> str | None:
    """Why a failure's text is not a reason in words, or None if it is one."""
    if not isinstance(error, str) or not error.strip():
        return "failed without saying why"
    if "Traceback (most recent call last)" in error or "\n" in error.strip():
        return f"failed with a traceback, not a one-line reason: {error.strip()[:200]!r}"
    if EXCEPTION_NAME.match(error):
        return f"failed with a Python exception, not a reason: {error!r}"
    return None


def output_paths(record) -> list[str]:
    output = record.get("output")
    if not output:
        return []
    return output if isinstance(output, list) else [output]


def output_problems(item: CorpusFile, step: StepCommand | None, path: str, reading: dict | None) -> list[str]:
    """What is wrong with an output that batchproc reported ok (empty: it reads back fine)."""
    if reading is None:
        return [f"output {path} was not read back"]
    problems = []
    expected = step.expected_size(item.size) if step and item.size else None
    for reader, name in (("pillow", "Pillow"), ("vips", "libvips")):
        seen = reading.get(reader, {})
        if seen.get("ok") is None and reader == "vips":
            continue  # libvips has no loader for this format (BMP): nothing to check
        if not seen.get("ok"):
            problems.append(f"{name} cannot read the output: {seen.get('error')}")
            continue
        width, height = seen["size"]
        if expected and (abs(width - expected[0]) > 1 or abs(height - expected[1]) > 1):
            problems.append(f"{name} reads it as {width}x{height}, expected {expected[0]}x{expected[1]}")
    pillow = reading.get("pillow", {})
    if (pillow.get("ok") and step and step.output_format
            and pillow["format"] not in FORMAT_NAMES[EXTENSIONS[step.output_format]]):
        problems.append(f"the output is {pillow['format']}, not the {step.output_format} asked for")
    if (pillow.get("ok") and step and item.frames and item.frames > 1 and item.group in ("gif", "webp")
            and pillow["format"] in ("GIF", "WEBP") and pillow["frames"] != item.frames):
        problems.append(f"the animation has {pillow['frames']} frames, not {item.frames}")
    return problems


def verdict(item: CorpusFile, step: StepCommand | None, record: dict | None,
            readings: dict) -> tuple[str, list[str]]:
    """(table cell, problems) for one file after one step: the cell says ok, failed: reason or
    UNREADABLE; problems (empty when the property holds) say what is wrong, in words."""
    if record is None:
        return "MISSING", ["batchproc gave no record for this file"]
    status, error = record.get("status"), record.get("error")
    if status == "failed":
        problem = reason_problem(error)
        return f"failed: {short(error)}", [problem] if problem else []
    if status != "ok":
        return f"{status}: {short(error)}", [f"ended {status!r} ({error}), neither ok nor failed"]
    problems = [problem for path in output_paths(record)
                for problem in output_problems(item, step, path, readings.get(path))]
    if not output_paths(record):
        problems.append("ok, but no output")
    return ("UNREADABLE: " + short(problems[0]) if problems else "ok"), problems


def short(text, limit=60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
