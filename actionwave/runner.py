"""``actionwave up``: one command that runs web, worker and beat together, and stops them all."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click

from actionwave.config import Settings

STOP_TIMEOUT_SECONDS = 15


def exec_gunicorn(host: str, port: int, workers: int, threads: int = 8) -> None:
    """Replace this process with gunicorn serving the app factory."""
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    os.execv(gunicorn, [
        gunicorn, "--bind", f"{host}:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads),
        "--access-logfile", "-", "--graceful-timeout", "10", "web:create_app()",
    ])


def prepare(settings: Settings, campaign_file: Path | None) -> None:
    """Migrate the database and load the example campaign if it is there."""
    from actionwave.campaigns import load_campaign
    from actionwave.migrate import upgrade
    from actionwave.services import Services

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    if campaign_file and campaign_file.exists():
        services = Services(settings)
        with services.session() as session:
            load_campaign(session, campaign_file)
        services.close()


def run_all(settings: Settings, host: str, port: int, campaign_file: Path | None) -> int:
    """Start web, worker and beat; return when one dies or on Ctrl-C/SIGTERM, none left behind."""
    prepare(settings, campaign_file)
    me = [sys.executable, "-m", "actionwave"]
    commands = {
        "web": [*me, "web", "--host", host, "--port", str(port), "--workers", "1"],
        "worker": [*me, "worker"],
        "beat": [*me, "beat"],
    }
    children = {
        name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()
    }
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    url = f"http://{host}:{port}"
    announced = False
    exit_code = 0
    try:
        while not stopping:
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                click.echo(f"{', '.join(dead)} stopped unexpectedly; shutting down", err=True)
                exit_code = 1
                break
            if not announced and healthy(url):
                click.echo(f"Actionwave is running at {url}/  (Ctrl-C to stop)")
                announced = True
            time.sleep(0.2)
    finally:
        stop_children(children)
    return exit_code


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM each child's process group, wait, then SIGKILL whatever is left."""
    for child in children.values():
        if child.poll() is None:
            _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in children.values():
        # The group may still hold pool children even when its leader has exited.
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)
