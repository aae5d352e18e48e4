"""Short fingerprints for incremental state: a step's settings, a folder's path.

They are sha256 digests, cut to 16 hex digits. `hashlib` would load OpenSSL to make them, about
4 ms of every start on a 2-core machine (a twelfth of `import typer`); CPython's own sha256
(`_sha2` from 3.12, `_sha256` before) gives the same digest without it.
"""

from __future__ import annotations

try:
    from _sha2 import sha256
except ImportError:
    try:
        from _sha256 import sha256
    except ImportError:  # an interpreter without them: the same digest from hashlib
        from hashlib import sha256


def short_digest(data: bytes) -> str:
    """The first 16 hex digits of the sha256 of `data`."""
    return sha256(data).hexdigest()[:16]
