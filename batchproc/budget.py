"""The failure budget: how many failures a run may take before it stops (like GNU parallel's
--halt soon,fail=N)."""

from __future__ import annotations

from batchproc.errors import UsageError


class FailureBudget:
    """--max-failures: a count ("10") or a share of the files found so far ("5%")."""

    def __init__(self, spec: str | None) -> None:
        self.count = self.share = None
        if spec is None:
            return
        try:
            if spec.strip().endswith("%"):
                self.share = float(spec.strip()[:-1]) / 100
            else:
                self.count = int(spec)
        except ValueError:
            raise UsageError(f"bad --max-failures {spec!r}: expected a count (10) or a share (5%)") from None
        if (self.count is not None and self.count < 1) or (self.share is not None and not 0 < self.share <= 1):
            raise UsageError(f"bad --max-failures {spec!r}: must be at least 1, or between 0% and 100%")

    def spent(self, failed: int, found: int) -> bool:
        if self.count is not None:
            return failed >= self.count
        return self.share is not None and failed >= self.share * max(found, 1)
