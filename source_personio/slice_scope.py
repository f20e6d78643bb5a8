"""State that lives exactly as long as one read of one stream slice.

The CDK gives a paginator and a record filter no "a read starts / ends" hook: it reuses one
component instance for every slice of a stream and for every read in the same process, and a
repeated page token (a page read again) looks like the first one. What it does give both is the
``StreamSlice`` object of the read: ``SimpleRetriever.read_records`` passes the same object to every
page's record filter and paginator call of that read, and a new read (a new sync, a retry, another
partition) builds a new one. So state is kept per slice *object* and dropped when it is garbage
collected (or earlier, by :meth:`PerSliceRead.forget`). Two equal slices read one after the other in
one process (two syncs) therefore never share state.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Dict, Generic, Optional, TypeVar

T = TypeVar("T")


class PerSliceRead(Generic[T]):
    """A ``stream_slice -> state`` map keyed by the slice object's identity (see the module docstring).

    ``None`` (no slice: direct calls in tests) is one scope of its own that lives until forgotten.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._states: Dict[int, T] = {}
        self._lock = threading.Lock()

    def get(self, stream_slice: Optional[Any]) -> T:
        key = id(stream_slice) if stream_slice is not None else 0
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = self._factory()
                if stream_slice is not None:
                    try:
                        weakref.finalize(stream_slice, self._drop, key)
                    except TypeError:  # an object without weak references: dropped by forget() only
                        pass
            return state

    def forget(self, stream_slice: Optional[Any]) -> None:
        key = id(stream_slice) if stream_slice is not None else 0
        with self._lock:
            self._states.pop(key, None)

    def _drop(self, key: int) -> None:
        # runs when the slice object is collected, before its id can be reused
        with self._lock:
            self._states.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)
