"""Process supervision: a worker or beat that dies is started again; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.support import wait_for

SUPERVISE = textwrap.dedent("""
    import sys
    from actionwave.runner import supervise
    sys.exit(supervise([sys.executable, {child!r}], "child"))
""")
# Dies the first two times (as a worker does when kombu trips over a lost broker), then runs.
CHILD = textwrap.dedent("""
    import pathlib, signal, sys, time
    runs = pathlib.Path({runs!r})
    runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
    if len(runs.read_text()) <= 2:
        sys.exit(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.1)
""")


def test_a_dying_child_is_started_again_and_sigterm_stops_it(tmp_path: Path):
    runs = tmp_path / "runs"
    child = tmp_path / "child.py"
    child.write_text(CHILD.format(runs=str(runs)))
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISE.format(child=str(child))],
                                  stderr=subprocess.PIPE, text=True)
    wait_for(lambda: runs.exists() and len(runs.read_text()) == 3, timeout=20,
             message="the third start")
    time.sleep(0.3)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0
    log = supervisor.stderr.read()
    supervisor.stderr.close()
    assert log.count("child exited with code 1; starting it again") == 2
