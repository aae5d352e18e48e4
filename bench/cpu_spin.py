"""A fixed amount of pure CPU work, to measure what 2 processes gain over 1 on this machine.

Usage: python cpu_spin.py python|sha256

python: a bare interpreter loop (about 1 s on the reference machine), the kind of work
        Python-level code in any worker does.
sha256: hashlib (OpenSSL) over a 64 MB buffer held in memory, 24 times (about 1 s there):
        native code streaming through memory, as a decoder does.
Fixed work, not a fixed time: when two copies slow each other down, it shows in the wall time.
"""
import hashlib
import sys

LOOP_ITERATIONS = 28_000_000
BUFFER_BYTES = 64 << 20
BUFFER_PASSES = 24


def spin_python() -> int:
    """Count through a loop in the interpreter."""
    total = 0
    for i in range(LOOP_ITERATIONS):
        total += i
    return total


def spin_sha256() -> str:
    """Hash an in-memory buffer several times over."""
    # Real bytes, not bytes(n): a zero-filled allocation maps one shared zero page, so the
    # hash would read from cache instead of memory.
    buffer = bytes(range(256)) * (BUFFER_BYTES // 256)
    digest = hashlib.sha256()
    for _ in range(BUFFER_PASSES):
        digest.update(buffer)
    return digest.hexdigest()


if __name__ == "__main__":
    kinds = {"python": spin_python, "sha256": spin_sha256}
    if len(sys.argv) != 2 or sys.argv[1] not in kinds:
        sys.exit(__doc__)
    kinds[sys.argv[1]]()
