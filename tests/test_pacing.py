"""The local executor sizes chunks by how long files take: slow files go out one at a time."""

from collections import deque

from batchproc.local_executor import LocalExecutor
from batchproc.results import OK, SKIPPED, FileResult
from batchproc.task import Task, WorkerSpec

CHUNK = [Task(seq, f"f{seq}.mp4") for seq in range(8)]


def executor_after(*milliseconds) -> LocalExecutor:
    executor = LocalExecutor(WorkerSpec("exec", {}), 2)  # no worker starts until work is sent
    for ms in milliseconds:
        executor._note_pace(FileResult(OK, "done.mp4", ms=ms))
    return executor


def test_chunks_go_whole_before_any_file_is_timed_and_while_files_are_quick():
    for executor in (executor_after(), executor_after(2.0, 3.0)):
        retry = deque()
        assert executor._paced(CHUNK, retry) == CHUNK and not retry


def test_slow_files_go_one_at_a_time_the_rest_first_in_line():
    executor = executor_after(90_000)  # a video: a minute and a half
    retry = deque([[Task(99, "retried.mp4")]])
    assert executor._paced(CHUNK, retry) == CHUNK[:1]
    assert list(retry) == [CHUNK[1:], [Task(99, "retried.mp4")]]


def test_a_chunk_holds_about_a_second_of_work():
    executor = executor_after(300, 300)
    retry = deque()
    assert executor._paced(CHUNK, retry) == CHUNK[:3]
    executor._note_pace(FileResult(SKIPPED, "x", ms=0.1))  # skips say nothing about the pace
    assert executor._paced(CHUNK, deque()) == CHUNK[:3]
