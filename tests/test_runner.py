"""``actionwave up``'s supervision: a child that dies is started again; SIGTERM stops them all.
(Production commands don't supervise themselves: compose's ``restart:`` does.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from actionwave.cli.runner import die_with_parent
from tests.support import wait_for

SUPERVISE = textwrap.dedent("""
    import os, sys
    from actionwave.cli.runner import supervise
    sys.exit(supervise({{"child": [sys.executable, {child!r}]}}, dict(os.environ)))
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


def test_a_child_whose_parent_died_before_it_was_tied_to_it_ends_before_running(tmp_path: Path):
    """A parent killed between the fork and the child's PR_SET_PDEATHSIG sends no signal: the
    child must notice (here: its parent is not the pid it was started for) and end at once."""
    ran = tmp_path / "ran"
    child = subprocess.Popen([sys.executable, "-c", f"open({str(ran)!r}, 'w')"],
                             preexec_fn=die_with_parent(os.getpid() + 1))
    assert child.wait(timeout=10) == 1
    assert not ran.exists()
    tied = subprocess.Popen([sys.executable, "-c", f"open({str(ran)!r}, 'w')"],
                            preexec_fn=die_with_parent(os.getpid()))
    assert tied.wait(timeout=10) == 0
    assert ran.exists()


def test_up_links_follow_the_port_unless_public_url_is_set():
    from actionwave.cli.runner import up_public_url

    assert up_public_url({}, "127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert up_public_url({}, "0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert up_public_url({"PUBLIC_URL": "https://act.example.org"}, "127.0.0.1", 8080) \
        == "https://act.example.org"


def test_web_refuses_a_port_another_server_listens_on(tmp_path: Path):
    """gunicorn listens with SO_REUSEPORT, which would let a second server on the same port
    share its connections silently: ``actionwave web`` stops first, and says why."""
    import socket

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as gunicorn's own
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "INSTANCE_PATH": str(tmp_path)}
        run = subprocess.run([sys.executable, "-m", "actionwave", "web", "--port", str(port)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in run.stderr
