"""Even open connections across gunicorn's processes.

gunicorn's processes share one listening socket, and whichever is awake accepts what is waiting.
A proxy or a load generator that opens its keep-alive connections all at once often left one
process with most of them (12 of 64, 14 of 64 were common), and each process serves its own on
one core: on the crowded one every request waited about twice as long, which set the intake's
p99 (docs/performance.md).

So each process counts its open connections in memory that gunicorn's master shares with all of
them, and a process holding more than its share (the mean of the live processes, plus one)
answers its next request with ``Connection: close``. The client opens a new connection, which
lands on whichever process accepts first: usually the less busy one. A browser or nginx does not
notice (the response says it closes); a single process never closes anything.
"""

from __future__ import annotations

import mmap
import struct
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

_SLOT = struct.Struct("qq")  # live (1 or 0), open connections


class ConnectionShares:
    """Open connections per gunicorn process, in anonymous shared memory made before the fork."""

    def __init__(self, slots: int = 64) -> None:
        self.slots = slots
        self._memory = mmap.mmap(-1, _SLOT.size * slots)
        self._all = struct.Struct(_SLOT.format * slots)

    def claim(self) -> int:
        """A free slot for a process about to be forked (called in the master)."""
        for slot in range(self.slots):
            if not self._read(slot)[0]:
                self._write(slot, 1, 0)
                return slot
        raise RuntimeError("no free connection slot: more gunicorn processes than slots")

    def release(self, slot: int) -> None:
        """The process in ``slot`` has exited (called in the master)."""
        self._write(slot, 0, 0)

    def add(self, slot: int, change: int) -> None:
        """Only the process that owns ``slot`` changes its count."""
        live, count = self._read(slot)
        self._write(slot, live, count + change)

    def over_share(self, slot: int) -> bool:
        values = self._all.unpack_from(self._memory)  # one read of every slot: a few µs
        counts = [count for live, count in zip(values[::2], values[1::2], strict=True) if live]
        return len(counts) > 1 and values[2 * slot + 1] > sum(counts) / len(counts) + 1

    def _read(self, slot: int) -> tuple[int, int]:
        return _SLOT.unpack_from(self._memory, slot * _SLOT.size)

    def _write(self, slot: int, live: int, count: int) -> None:
        _SLOT.pack_into(self._memory, slot * _SLOT.size, live, count)


_shares: ConnectionShares | None = None


def shares() -> ConnectionShares:
    """The master's shared counts, mapped when its first process is made (before the fork, so
    every process sees the same memory), never at import."""
    global _shares
    if _shares is None:
        _shares = ConnectionShares()
    return _shares


class BalancedGeventWorker(GeventWorker):
    """gunicorn's gevent worker, closing connections while it holds more than its share.

    gunicorn has no public hook for a connection opened or closed, and it drops a
    ``Connection`` header set by the app, so this extends its worker's ``handle`` and
    ``handle_request``. Without it the intake's p99 is worse (docs/performance.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # in the master: the slot is taken before the fork
        self.shares = shares()
        self.slot = self.shares.claim()
        self._uncounted: set[Any] = set()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        self.shares.add(self.slot, 1)
        try:
            super().handle(listener, client, addr)
        finally:
            if client in self._uncounted:
                self._uncounted.discard(client)
            else:
                self.shares.add(self.slot, -1)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
        if sock not in self._uncounted and self.shares.over_share(self.slot):
            req.must_close = True  # "Connection: close" on this response, then closed
            self.shares.add(self.slot, -1)  # counted as gone now, so that one request decides
            self._uncounted.add(sock)
        super().handle_request(listener_name, req, sock, addr)


def release_slot(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: the exited process's slot is free again."""
    if isinstance(worker, BalancedGeventWorker):
        shares().release(worker.slot)
