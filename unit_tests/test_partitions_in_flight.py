"""Each stream keeps at most a few partitions in flight (pacing.PartitionsInFlight), so one stream's
partitions cannot occupy every worker while the other endpoints' rate budgets go unused."""

from __future__ import annotations

import threading
import time

from source_personio.cdk_adaptations import bound_partitions_in_flight
from source_personio.pacing import PartitionsInFlight


class FakePartition:
    def __init__(self, n: int, fail: bool = False):
        self.n, self.fail = n, fail

    def read(self):
        if self.fail:
            raise RuntimeError("boom")
        yield {"n": self.n}


def test_a_stream_hands_out_no_more_partitions_than_its_limit_until_one_is_read():
    generated = []
    gen = PartitionsInFlight(2, max_wait_s=0.2).wrap(lambda: (FakePartition(i) for i in range(5)))()
    first, second = next(gen), next(gen)
    started = time.monotonic()
    third = next(gen)  # no slot: waits max_wait_s, then goes on rather than stall the sync
    assert time.monotonic() - started >= 0.19
    generated += [first, second, third]
    assert [p.n for p in generated] == [0, 1, 2]


def test_reading_a_partition_frees_its_slot_for_the_next():
    gen = PartitionsInFlight(1, max_wait_s=5).wrap(lambda: (FakePartition(i) for i in range(3)))()
    first = next(gen)
    threading.Timer(0.1, lambda: list(first.read())).start()
    started = time.monotonic()
    second = next(gen)
    assert 0.05 < time.monotonic() - started < 2
    assert list(second.read()) == [{"n": 1}]


def test_a_failed_read_frees_its_slot_too():
    gen = PartitionsInFlight(1, max_wait_s=5).wrap(lambda: iter([FakePartition(0, fail=True), FakePartition(1)]))()
    failing = next(gen)
    try:
        list(failing.read())
    except RuntimeError:
        pass
    started = time.monotonic()
    assert next(gen).n == 1
    assert time.monotonic() - started < 1


def test_every_stream_gets_its_own_bound_of_a_quarter_of_the_workers():
    class Stream:
        def generate_partitions(self):
            return (FakePartition(i) for i in range(10))

    streams = [Stream(), Stream()]
    assert bound_partitions_in_flight(streams, workers=16) == 2
    assert bound_partitions_in_flight(streams, workers=16) == 0  # not wrapped twice
    a, b = streams[0].generate_partitions(), streams[1].generate_partitions()
    held_a = [next(a) for _ in range(4)]
    # stream a is at its limit (4), stream b still gets partitions at once
    started = time.monotonic()
    assert [next(b).n for _ in range(4)] == [0, 1, 2, 3]
    assert time.monotonic() - started < 0.5
    assert len(held_a) == 4
