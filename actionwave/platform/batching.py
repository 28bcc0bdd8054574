"""Batching across threads: the work of many concurrent requests done in one call.

A request thread hands its item to a ``Batcher`` and waits. One thread per process takes every
item waiting, runs ``process`` on all of them at once (one round trip to PostgreSQL or Redis
instead of one per request), and wakes each request with its own result. There is no timer: a
lone item is processed at once, and under load the items that arrive while one batch runs make
up the next. ``group_commit`` writes submissions this way; the web's abuse limits check their
Redis buckets this way.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class BatchTimeout(TimeoutError):
    """The batch thread did not answer in time; the item may or may not have been processed."""


class _Waiting(Generic[T, R]):
    __slots__ = ("done", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Event()
        self.result: R | BaseException | None = None


class Batcher(Generic[T, R]):
    """``submit(item)`` from any thread; ``process(items)`` runs on one thread for many items.

    ``process`` returns one result per item, in order; a result that is an exception is raised
    in the submitting thread, and an exception raised by ``process`` reaches every item of the
    batch. ``key`` keeps items with the same key out of the same batch (the later ones wait for
    the next). ``observe`` is told each batch's size.
    """

    def __init__(self, process: Callable[[list[T]], Sequence[R | BaseException]], *, name: str,
                 max_batch: int = 256, wait_seconds: float = 20.0,
                 key: Callable[[T], Hashable] | None = None,
                 observe: Callable[[int], None] | None = None) -> None:
        self.process = process
        self.name = name
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self.key = key
        self.observe = observe
        self._waiting: deque[_Waiting[T, R]] = deque()
        self._ready = threading.Condition()
        self._pid = 0  # the thread belongs to one process: a forked child starts its own

    def submit(self, item: T) -> R:
        waiting: _Waiting[T, R] = _Waiting(item)
        with self._ready:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._waiting.clear()  # items of the parent process are the parent's to answer
                threading.Thread(target=self._run, name=self.name, daemon=True).start()
            self._waiting.append(waiting)
            self._ready.notify()
        if not waiting.done.wait(self.wait_seconds):
            raise BatchTimeout(f"{self.name}: no answer within {self.wait_seconds:g} s")
        if isinstance(waiting.result, BaseException):
            raise waiting.result
        return waiting.result  # type: ignore[return-value]

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                results: Sequence[R | BaseException] = self.process([w.item for w in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)}")
            except Exception as exc:  # never leave a request waiting, whatever happened
                log.warning("%s: a batch of %d failed: %s", self.name, len(batch),
                            type(exc).__name__)
                results = [exc] * len(batch)
            for waiting, result in zip(batch, results, strict=True):
                waiting.result = result
                waiting.done.set()

    def _take(self) -> list[_Waiting[T, R]]:
        with self._ready:
            while not self._waiting:
                self._ready.wait()
            if self.key is None:
                count = min(len(self._waiting), self.max_batch)
                batch = [self._waiting.popleft() for _ in range(count)]
            else:
                batch, later, seen = [], [], set()
                while self._waiting and len(batch) < self.max_batch:
                    waiting = self._waiting.popleft()
                    key = self.key(waiting.item)
                    (later if key in seen else batch).append(waiting)
                    seen.add(key)
                self._waiting.extendleft(reversed(later))
        if self.observe is not None:
            self.observe(len(batch))
        return batch
