"""Where each record goes (the summary, the state, the log, the caller), and what a failure
means for the rest of the run."""

from __future__ import annotations

from collections import Counter

from batchproc.budget import FailureBudget
from batchproc.errors import ExitCode
from batchproc.results import FAILED, SKIPPED, FileResult, Summary


class Ledger:
    """Takes each record in: a full disk stops the run; a spent failure budget stops it too,
    or under --watch stops the rest of that batch only (`share` is the watch's, else None)."""

    def __init__(self, budget: FailureBudget, planner, walker, log, events, control, share) -> None:
        self.summary = Summary()
        self.planner, self.walker, self.log, self.events = planner, walker, log, events
        self.control, self.share = control, share
        self.budget = budget
        self.log_generation = control.log_generation
        self.failed_in: Counter = Counter()  # per batch, under --watch

    def add(self, result: FileResult) -> None:
        batch = self.walker.batch_of.pop(result.seq, self.walker.batch)
        if self.share is not None and result.input_changed:
            result.status = SKIPPED  # the watch takes it again once it settles
            result.error = f"{result.error}: taken again once it settles"
        self.summary.add(result)
        self.planner.record(result)
        if self.log is not None:
            self._reopen_log_if_asked()
            self.log.write(result.to_dict(traceback=True))
        self.events.result(result)
        if self.share is not None:
            self.share.finished(result)
        if result.status == FAILED:
            self._failed(result, batch)

    def _failed(self, result: FileResult, batch: int) -> None:
        """Stop dispatching when no later file can succeed (a full disk, a command the shell
        cannot find) or the budget is spent."""
        if result.stops_run:
            self.control.drain(f"stopped: {result.stops_run}", ExitCode.ABORTED)
        elif self.share is None:
            if self.budget.spent(self.summary.failed, self.walker.found):
                self.control.drain(f"stopped: failure budget spent ({self.summary.failed} failed)",
                                   ExitCode.FAILURE_BUDGET)
        else:
            self.failed_in[batch] += 1
            failed = self.failed_in[batch]
            if batch not in self.walker.abandoned and self.budget.spent(failed, self.walker.found_in[batch]):
                why = f"failure budget spent: {failed} failed in this batch"
                self.events.notice(f"{why}; its other files are not started; the watch goes on",
                                   warning=True)
                for left in self.walker.abandon(batch, why):
                    self.add(left)
            if len(self.failed_in) > 64:  # forget batches long done
                oldest = min(self.walker.batch_of.values(), default=self.walker.batch)
                for done in [b for b in self.failed_in if b < oldest]:
                    del self.failed_in[done]

    def _reopen_log_if_asked(self) -> None:
        """After a SIGHUP (logrotate), write to a new file at the log's path."""
        if self.control.log_generation == self.log_generation:
            return
        self.log_generation = self.control.log_generation
        try:
            self.log.reopen()
        except OSError as error:
            self.events.notice(f"Warning: cannot reopen the log {self.log.path} ({error.strerror}): "
                               "still writing to the file open before", warning=True)
