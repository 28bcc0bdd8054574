"""``actionwave up``: one command that runs web, worker and beat together, and stops them all."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import click
from sqlalchemy.orm import Session

from actionwave.legislators.sources import SourceError, read_source
from actionwave.legislators.sync import store_snapshot
from actionwave.platform.config import Settings

STOP_TIMEOUT_SECONDS = 15
GUNICORN_CONFIG = "python:web.gunicorn_conf"


def exec_gunicorn(host: str, port: int, workers: int) -> None:
    """Replace this process with gunicorn serving the app factory (settings in
    ``web/gunicorn_conf.py``)."""
    refuse_a_taken_port(host, port)
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    env = dict(os.environ)
    metrics_dir = shared_metrics_dir(Settings.from_env().prometheus_multiproc_dir, workers)
    if metrics_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.execve(gunicorn, [
        gunicorn, "--config", GUNICORN_CONFIG, "--bind", f"{host}:{port}",
        "--workers", str(workers), "web:create_app()",
    ], env)


def refuse_a_taken_port(host: str, port: int) -> None:
    """Stop with a clear message when something already listens on ``host:port``.

    gunicorn's processes listen with ``SO_REUSEPORT`` (web/gunicorn_conf.py), which would let a
    second ``actionwave web`` on the same port (an old one left running) share its connections
    silently; a plain bind is refused while any socket holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections: fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"{host}:{port} is already in use ({exc.strerror}); "
                                       "stop what listens there or choose --port") from exc


def shared_metrics_dir(configured: str, workers: int) -> str:
    """The folder where gunicorn's processes keep the counters that ``/metrics`` sums
    (prometheus_client's multiprocess mode), or "" for none (one process counts in memory).

    ``PROMETHEUS_MULTIPROC_DIR`` if set, emptied of an earlier run's counter files (they would be
    added in); with several processes and none set, a new temporary folder: without one, each
    scrape would report the counts of whichever process answered it.
    """
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # prometheus_client's files: counter_<pid>.db, ...
            stale.unlink()
        return configured
    if workers > 1:
        return tempfile.mkdtemp(prefix="actionwave-metrics-")
    return ""


def prepare(settings: Settings, campaign_file: Path | None) -> None:
    """Migrate the database and load the example campaign if it is there."""
    from actionwave.campaigns.files import load_campaign
    from actionwave.legislators.sync import current_snapshot_id
    from actionwave.platform.migrate import upgrade
    from actionwave.system.services import Services

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    with Services(settings) as services, services.session() as session:
        if campaign_file and campaign_file.exists():
            load_campaign(session, campaign_file)
        if current_snapshot_id(session) is None:
            sync_legislators(session, settings)


def sync_legislators(session: Session, settings: Settings) -> None:
    """First start: load legislators and ZIP districts, or say clearly why the page can't yet."""
    source = settings.data_source or None
    click.echo(f"Loading legislator data from {source or 'the official sources'} ...")
    try:
        summary = store_snapshot(session, read_source(source))
    except SourceError as exc:
        click.echo(f"Could not load legislator data: {exc}\nThe page will say so until "
                   "`actionwave data sync [--source PATH]` succeeds.", err=True)
        return
    click.echo(f"Loaded {sum(summary.members.values())} members and {summary.zips} ZIP codes.")


def run_all(settings: Settings, host: str, port: int, campaign_file: Path | None) -> int:
    """Start web, worker and beat, starting again whichever dies, until Ctrl-C/SIGTERM; none is
    left behind."""
    prepare(settings, campaign_file)
    me = [sys.executable, "-m", "actionwave"]
    commands = {
        "web": [*me, "web", "--host", host, "--port", str(port), "--workers", "1"],
        "worker": [*me, "worker"],
        "beat": [*me, "beat"],
    }
    # For people at a terminal: readable lines unless LOG_FORMAT says otherwise; links in mail
    # and pages point at the port served, unless PUBLIC_URL says where the public reaches it.
    env = {**os.environ, "LOG_FORMAT": os.environ.get("LOG_FORMAT") or "text",
           "PUBLIC_URL": up_public_url(os.environ, host, port)}
    url = f"http://{host}:{port}"
    announced = False

    def announce() -> None:
        nonlocal announced
        if not announced and healthy(url):
            click.echo(f"Actionwave is running at {url}/  (Ctrl-C to stop)")
            announced = True

    return supervise(commands, env, announce)


MAX_RESTART_BACKOFF_SECONDS = 30.0
HEALTHY_RUN_SECONDS = 60.0


def supervise(commands: dict[str, list[str]], env: dict[str, str],
              every_poll: Callable[[], None] = lambda: None) -> int:
    """Run each command as a child, start again any that dies (after 1 s, doubling up to 30 s
    while it keeps dying), and on SIGINT/SIGTERM stop them all and return 0.

    For ``actionwave up`` only, at a developer's terminal (a Celery worker can die on a broker
    outage: the database is the truth, so a fresh one picks up where it stopped). Production runs
    ``web``, ``worker`` and ``beat`` under compose's ``restart:`` or systemd's ``Restart=``.
    """
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(commands[name], start_new_session=True, env=env,
                                preexec_fn=die_with_parent(os.getpid()))

    children = {name: start(name) for name in commands}
    started = dict.fromkeys(commands, time.monotonic())
    backoff = dict.fromkeys(commands, 1.0)
    due: dict[str, float] = {}  # name -> when to start it again
    try:
        while not stopping:
            now = time.monotonic()
            for name, child in children.items():
                code = child.poll()
                if code is None or name in due:
                    continue
                if now - started[name] > HEALTHY_RUN_SECONDS:
                    backoff[name] = 1.0
                click.echo(f"{name} exited with code {code}; starting it again in "
                           f"{backoff[name]:.0f} s", err=True)
                due[name] = now + backoff[name]
                backoff[name] = min(backoff[name] * 2, MAX_RESTART_BACKOFF_SECONDS)
            for name, at in list(due.items()):
                if now >= at:
                    del due[name]
                    children[name], started[name] = start(name), now
            every_poll()
            time.sleep(0.2)
    finally:
        stop_children(children)
    return 0


def up_public_url(environ: Mapping[str, str], host: str, port: int) -> str:
    """``PUBLIC_URL`` if set, else the address ``actionwave up`` serves on."""
    if environ.get("PUBLIC_URL"):
        return environ["PUBLIC_URL"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: ask Linux to SIGTERM the child if ``parent`` (the pid starting it) dies,
    even by SIGKILL. If it died between the fork and the request, no signal would ever come:
    the child then ends before it runs anything."""

    def arrange() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return arrange


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
