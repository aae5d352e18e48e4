"""What a report keeps while a run goes on: counts and bounded lists, whatever the run's size."""

from __future__ import annotations

import time

from batchproc.previews import Preview
from batchproc.report import live
from batchproc.report.live import ReportPages
from batchproc.report.sample import CHANGES, SPREAD, ContactSample
from batchproc.report.tally import MAX_REASONS, PATHS_PER_REASON, Tally
from batchproc.results import FAILED, OK, SKIPPED, FileResult, Summary
from batchproc.run_header import RunHeader
from report_pages import Page

THUMBNAIL = Preview("image/jpeg", b"\xff\xd8" + bytes(3000), 160, 120, 4000, 3000)


def result(index: int, folders: int = 2000, **fields) -> FileResult:
    values = {"status": OK, "input": f"photos/{index % folders:04}/{index:06}.jpg", "bytes_in": 1000,
              "bytes_out": 300 + index % 7, "ms": 20.0 + index % 13, "data": {"width": 720, "height": 540},
              "previews": (THUMBNAIL, THUMBNAIL), **fields}
    values["output"] = values["input"].replace("photos", "web")
    return FileResult(**values)


def test_a_run_of_200000_files_keeps_a_bounded_sample_spread_over_the_tree():
    tally, sample = Tally(), ContactSample()
    for index in range(200_000):
        in_walk_order = index // 100 + 2000 * (index % 100)  # folder by folder, 100 files each
        extreme = {"bytes_out": 5} if index in (77_777, 150_001) else {}
        item = result(in_walk_order, **extreme)
        tally.add(item)
        sample.add(item)
    cards = sample.cards()  # a few hundred kept, whatever the run's size; and counts
    assert CHANGES + SPREAD // 2 <= len(cards) <= CHANGES + SPREAD
    assert {card.bytes_out for card in cards[:2]} == {5}  # the largest size changes first
    folders = sorted({int(card.input.split("/")[1]) for card in cards[CHANGES:]})
    assert folders[0] < 50 and folders[-1] > 1950 and len(folders) > SPREAD // 3  # the whole tree
    assert sample.total == tally.counts[OK] == 200_000
    assert len(tally.slowest) == 10 and len(sample.failures) == 0


def test_failures_are_grouped_by_reason_without_their_own_paths():
    tally = Tally()
    for index in range(120):
        tally.add(result(index, status=FAILED, error="truncated image", bytes_out=None))
    tally.add(result(500, status=FAILED, error="Permission denied: web/0500/000500.jpg"))
    tally.add(result(501, status=FAILED, error="Permission denied: web/0501/000501.jpg"))
    for index in range(200):  # reasons without end: the first hundred are told apart
        tally.add(result(1000 + index, status=FAILED, error=f"exit status {index}"))
    assert tally.failed == 322
    truncated = tally.failures["truncated image"]
    assert truncated.count == 120 and len(truncated.paths) == PATHS_PER_REASON
    assert tally.failures["Permission denied: the output"].count == 2
    assert len(tally.failures) == MAX_REASONS + 1 and tally.failures["other reasons"].count == 200 - 98


def test_times_and_sizes_are_counted_into_bins_and_top_lists():
    tally = Tally()
    for index, (ms, size_out) in enumerate([(0.5, 100), (3, 100), (3.5, 2000), (40_000, 1000), (8, 1500)]):
        tally.add(result(index, ms=ms, bytes_out=size_out))
    tally.add(result(9, status=SKIPPED, error="up to date", ms=None, bytes_out=None))
    assert [row.ms for row in tally.slowest] == [40_000, 8, 3.5, 3, 0.5]
    assert [row.bytes_out for row in tally.grown] == [2000, 1500] and tally.grew == 2
    assert sum(tally.time_bins) == 5 and sum(tally.ratio_bins) == 5
    assert tally.skip_reasons == {"up to date": 1} and tally.processed == 5


def test_under_watch_the_page_is_rewritten_at_most_once_an_interval_and_at_the_stop(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "WATCH_INTERVAL", 0.2)
    header = RunHeader("20261126-000000-abcdef", "2026-11-26T00:00:00+00:00", ("batchproc", "resize", "in", "--watch"),
                       str(tmp_path), "resize", {}, None, "local", 2, images=True)
    listener = ReportPages().listener(str(tmp_path / "watch.html"), header, watch=True)
    writes = []
    original = listener.page.write
    monkeypatch.setattr(listener.page, "write", lambda: (writes.append(time.monotonic()), original()))
    started = time.monotonic()
    index = 0
    while time.monotonic() - started < 1.0:  # a result every few milliseconds for a second
        listener.result(result(index))
        index += 1
        time.sleep(0.005)
    assert 3 <= len(writes) <= 6 and all(b - a >= 0.19 for a, b in zip(writes, writes[1:]))
    assert "Still running" in Page(tmp_path / "watch.html").text
    summary = Summary(elapsed=1.0)
    summary.counts[OK] = index
    assert listener.finish(summary) is None
    final = Page(tmp_path / "watch.html")
    assert "Still running" not in final.text and f"resize: {index} ok" in final.text


def test_files_counted_in_bulk_give_the_same_page_as_one_by_one():
    """Without thumbnails (checksum, compress, exec), a worker's plain successes reach the
    report as columns and the chunk's notable records: the counts, histograms and top lists
    must be those of counting every record."""
    from batchproc.result_batch import BatchBuilder, Rendering

    class Step:  # what BatchBuilder asks of a step that prints nothing itself
        def stderr_lines(self, view):
            return []

    def item(index):
        grown = {"bytes_out": 5000 + index} if index % 97 == 0 else {}
        return result(index, ms=float((index * 7919) % 1009), fingerprint=(1000, index), seq=index,
                      previews=None, **grown)

    one_by_one, in_bulk = Tally(), Tally()
    builder = BatchBuilder(Step(), Rendering(stdout="json", tally=True))
    for index in range(3000):
        one_by_one.add(item(index))
        builder.add(item(index))
        if index % 64 == 63 or index == 2999:  # a chunk's end
            batch, others = builder.take()
            assert others == []
            in_bulk.add_batch(batch)
    for name in ("counts", "bytes_in", "bytes_out", "time_bins", "ratio_bins", "grew", "written"):
        assert getattr(in_bulk, name) == getattr(one_by_one, name), name
    assert [row.input for row in in_bulk.slowest] == [row.input for row in one_by_one.slowest]
    assert [row.input for row in in_bulk.grown] == [row.input for row in one_by_one.grown]
    assert len(in_bulk.grown) == 10 and in_bulk.counts[OK] == 3000
