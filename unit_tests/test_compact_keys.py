"""CompactKeys (source_personio/compact_keys.py): exact membership, 8 bytes per packable key."""

from __future__ import annotations

import random
import tracemalloc

from source_personio.compact_keys import CompactKeys


def test_every_key_is_new_once_and_only_once_whatever_its_form():
    keys = [10001, 10002, ("rep-1", 10001, "2026-01-01"), ("rep-1", 10001, "2026-02-01"), ("rep-1", 10001, None),
            ("rep-1", 10001, ""), ("rep-2", 10001, "2026-01-01"), (10001, None), (10001, "2026-01-01"),
            2 ** 50, "a-uuid", ("rep-1", -5, "2026-01-01"), True, (1, 0), (1, None)]
    seen = CompactKeys()
    assert [k in seen for k in keys] == [False] * len(keys)
    assert [seen.add(k) for k in keys] == [True] * len(keys)
    assert [k in seen for k in keys] == [True] * len(keys)
    assert [seen.add(k) for k in keys] == [False] * len(keys)
    assert len(seen) == len(keys)


def test_a_large_read_answers_exactly_like_a_set():
    rng = random.Random(7)
    seen, reference = CompactKeys(), set()
    for _ in range(60_000):
        key = ("rep-1", rng.randrange(10_000, 40_000), rng.choice([None, "2026-01-01", "2026-06-30"]))
        assert (key in seen) == (key in reference)
        assert seen.add(key) == (key not in reference)
        reference.add(key)


def test_report_row_keys_cost_a_tenth_of_a_set_of_tuples():
    rows = [("9c1f6a4e-1111-2222-3333-444455556666", 10001 + i, "2026-%02d-01" % (1 + i % 12)) for i in range(100_000)]

    def cost(store, add):
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for row in rows:
            add(store, (row[0], int(str(row[1])), str(row[2])))  # fresh objects, as parsed pages give
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        return sum(s.size_diff for s in after.compare_to(before, "filename"))

    compact = cost(CompactKeys(), CompactKeys.add)
    plain = cost(set(), set.add)
    assert compact * 10 < plain, (compact, plain)
