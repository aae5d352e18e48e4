"""The local executor sizes chunks by how long files take: slow files go out one at a time."""

from collections import deque

import pytest

from batchproc.local_executor import LocalExecutor
from batchproc.results import OK, SKIPPED, FileResult
from batchproc.task import Task, WorkerSpec

CHUNK = [Task(seq, f"f{seq}.mp4") for seq in range(8)]


def executor_after(*milliseconds) -> LocalExecutor:
    executor = LocalExecutor(WorkerSpec("exec", {}), 2)  # no worker starts until work is sent
    for ms in milliseconds:
        executor.pace.note(FileResult(OK, "done.mp4", ms=ms))
    return executor


def test_chunks_go_whole_before_any_file_is_timed_and_while_files_are_quick():
    for executor in (executor_after(), executor_after(2.0, 3.0)):
        retry = deque()
        assert executor.pace.cut(CHUNK, retry) == CHUNK and not retry


def test_slow_files_go_one_at_a_time_the_rest_first_in_line():
    executor = executor_after(90_000)  # a video: a minute and a half
    retry = deque([[Task(99, "retried.mp4")]])
    assert executor.pace.cut(CHUNK, retry) == CHUNK[:1]
    assert list(retry) == [CHUNK[1:], [Task(99, "retried.mp4")]]


def test_a_chunk_holds_about_a_second_of_work():
    executor = executor_after(300, 300)
    retry = deque()
    assert executor.pace.cut(CHUNK, retry) == CHUNK[:3]
    executor.pace.note(FileResult(SKIPPED, "x", ms=0.1))  # skips say nothing about the pace
    assert executor.pace.cut(CHUNK, deque()) == CHUNK[:3]


def test_once_the_walk_is_over_chunks_shrink_so_that_workers_finish_together():
    executor = executor_after(30, 30)  # 2 workers, 2 chunks each at most in hand
    assert executor.pace.cut(CHUNK, deque(), left=64) == CHUNK  # plenty left: whole chunks
    assert executor.pace.cut(CHUNK, deque(), left=16) == CHUNK[:4]
    assert executor.pace.cut(CHUNK, deque(), left=6) == CHUNK[:1]


def test_dask_chunks_are_packed_to_a_fifth_of_a_second_and_shared_out_at_the_end():
    pytest.importorskip("distributed")
    from batchproc.dask.executor import DaskExecutor
    from batchproc.feed import Feed

    executor = DaskExecutor(WorkerSpec("exec", {}))  # connects only when run
    executor._threads_checked, executor._threads = float("inf"), 2  # two workers, never asked
    feed = Feed()
    for seq in range(400):
        feed.put_chunk([Task(seq, f"f{seq}.txt")])
    assert len(executor._packed(feed)) == 1  # nothing timed yet: as the walk made it
    executor._note_pace([FileResult(OK, "x", ms=10.0)])
    assert len(executor._packed(feed)) == 20  # 0.2 s of 10 ms files
    feed.close()
    assert len(executor._packed(feed)) == 20
    while feed.left > 80:
        executor._packed(feed)
    assert feed.left == 79  # for 2 workers: smaller chunks now, so that both finish together
    assert [len(executor._packed(feed)) for _ in range(4)] == [20, 15, 11, 9]
