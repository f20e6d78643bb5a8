"""PerSliceRead: state lives as long as the read of one slice object."""

from __future__ import annotations

import gc

from airbyte_cdk.sources.types import StreamSlice

from source_personio.slice_scope import PerSliceRead


def test_each_slice_object_has_its_own_state_even_when_equal():
    scope = PerSliceRead(list)
    a, b = StreamSlice(partition={"x": 1}, cursor_slice={}), StreamSlice(partition={"x": 1}, cursor_slice={})
    scope.get(a).append("a")
    assert scope.get(b) == [] and scope.get(a) == ["a"]


def test_state_is_dropped_when_the_slice_is_gone_or_forgotten():
    scope = PerSliceRead(list)
    a = StreamSlice(partition={}, cursor_slice={})
    scope.get(a).append(1)
    b = StreamSlice(partition={}, cursor_slice={})
    scope.get(b).append(2)
    scope.forget(b)
    assert scope.get(b) == []
    del a
    gc.collect()
    assert len(scope) == 1  # only b's fresh state is left
