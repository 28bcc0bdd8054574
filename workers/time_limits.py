"""Soft and hard time limits for tasks on Celery's thread pool, which ignores Celery's own.

Celery enforces ``task_soft_time_limit``/``task_time_limit`` in its prefork and gevent pools;
its thread pool (our default, ``WORKER_POOL=threads``) does not. Here a watchdog thread does
the same: past the soft limit it raises ``SoftTimeLimitExceeded`` inside the task's thread (at
its next Python instruction; every call that blocks has a timeout of its own), and past the hard
limit it ends the worker process, which compose's ``restart:`` (or systemd) starts again.
The task's message was acknowledged late, so it runs again; its leases expire and are settled
like any other in-doubt send.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded

log = logging.getLogger(__name__)


class ThreadTimeLimits:
    """Tracks the tasks running on each thread and enforces ``soft`` and ``hard`` seconds."""

    def __init__(self, soft: float, hard: float,
                 exit_process: Callable[[int], Any] = os._exit) -> None:
        self.soft = soft
        self.hard = hard
        self.exit_process = exit_process
        self.running: dict[int, list[Any]] = {}  # thread id -> [started, task name, soft sent]
        self.lock = threading.Lock()
        self.watchdog: threading.Thread | None = None

    def task_started(self, name: str) -> None:
        with self.lock:
            self.running[threading.get_ident()] = [time.monotonic(), name, False]

    def task_finished(self) -> None:
        with self.lock:
            self.running.pop(threading.get_ident(), None)

    def check(self) -> None:
        now = time.monotonic()
        with self.lock:
            for thread_id, entry in list(self.running.items()):
                started, name, soft_sent = entry
                if now - started > self.hard:
                    log.critical("task %s ran past its hard time limit (%g s): restarting the"
                                 " worker process", name, self.hard)
                    del self.running[thread_id]
                    self.exit_process(1)
                    return
                if now - started > self.soft and not soft_sent:
                    log.error("task %s ran past its soft time limit (%g s)", name, self.soft)
                    entry[2] = True
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(thread_id), ctypes.py_object(SoftTimeLimitExceeded))

    def start(self, interval: float = 0.5) -> None:
        """Run ``check`` every ``interval`` seconds in a daemon thread (once per process)."""
        if self.watchdog is not None:
            return

        def watch() -> None:
            while True:
                time.sleep(interval)
                self.check()

        self.watchdog = threading.Thread(target=watch, daemon=True, name="task-time-limits")
        self.watchdog.start()
