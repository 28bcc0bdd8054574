"""An open-loop HTTP load generator in the style of wrk2.

Requests are *scheduled* at a fixed arrival rate; each one's latency is measured from the time it
was scheduled to be sent, not from when a connection became free. A slow server therefore shows
up as high latency instead of quietly lowering the offered load (coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.harness import QUANTILES, latency_figures


@dataclass
class OpenLoopResult:
    offered_per_s: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: int = 0

    def summary(self) -> dict[str, object]:
        """Counts, and latencies as ``bench.harness.latency_figures`` (so rounds can be pooled)."""
        accepted = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        ordered = sorted(self.latencies_ms) or [0.0]
        quantiles = [round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)
                     for q in QUANTILES]
        return {
            "offered_per_s": self.offered_per_s,
            "accepted_per_s": round(accepted / self.seconds, 2),
            "accepted": accepted,
            **latency_figures(quantiles, round(ordered[-1], 2), len(self.latencies_ms)),
            "errors": {str(k): v for k, v in self.statuses.items() if not 200 <= k < 300}
            | ({"socket": self.socket_errors} if self.socket_errors else {}),
        }


async def _connection(host: str, port: int, queue: asyncio.Queue, result: OpenLoopResult) -> None:
    reader = writer = None
    while True:
        item = await queue.get()
        if item is None:
            break
        scheduled, request = item
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            status, keep_alive = await _read_response(reader)
            result.statuses[status] += 1
            if not keep_alive:  # the server said "Connection: close": the next one reconnects
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.socket_errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
        result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
    if writer is not None:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of the response and whether the connection stays open after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, keep_alive = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection":
            keep_alive = value.strip().lower() != "close"
    if length:
        await reader.readexactly(length)
    return status, keep_alive


def _post(host: str, path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


async def _run(host: str, port: int, rate: float, seconds: float, connections: int,
               make_request: Callable[[int], bytes]) -> OpenLoopResult:
    result = OpenLoopResult(offered_per_s=rate, seconds=seconds)
    queue: asyncio.Queue = asyncio.Queue()
    workers = [asyncio.create_task(_connection(host, port, queue, result))
               for _ in range(connections)]
    start = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, make_request(n)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return result


def open_loop(url: str, rate: float, seconds: float, connections: int,
              make_body: Callable[[int], dict]) -> OpenLoopResult:
    """POST ``make_body(n)`` as JSON to ``url`` at ``rate`` requests/s for ``seconds``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    return asyncio.run(_run(host, port, rate, seconds, connections, lambda n: _post(
        f"{host}:{port}", parts.path, json.dumps(make_body(n)).encode())))


def open_loop_get(base_url: str, rate: float, seconds: float, connections: int,
                  make_path: Callable[[int], str]) -> OpenLoopResult:
    """GET ``base_url + make_path(n)`` at ``rate`` requests/s for ``seconds``."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    return asyncio.run(_run(host, port, rate, seconds, connections,
                            lambda n: _get(f"{host}:{port}", make_path(n))))
