"""Many hosts, one database: two web hosts behind the production nginx as the balancer, two
worker hosts and two beats, all on one PostgreSQL and one Redis; mid-launch one web host and one
worker host die (SIGKILL of their whole process group, as a machine that loses power).

Each "host" is its own process tree with its own name and instance folder: ``actionwave web``
(gunicorn, one gevent process) twice, ``actionwave worker -n worker@hostA|hostB`` twice,
``actionwave beat`` twice. Supporters submit through nginx (``deploy/nginx``, both web hosts as
its upstream servers) from ``--threads`` closed-loop clients. First a baseline round with every
host up, then the launch round with the kills half-way through; ``ratio`` is the launch round's
accepted submissions per second against the baseline's. Then a rolling deploy round: the dead
web host starts again, and each web host in turn is stopped as a deploy stops it (SIGTERM:
gunicorn finishes its requests) and started again, the next one only once the balancer sends the
others submissions again (``rolling_deploy``: its answers by status).
Then the pipeline drains (the surviving worker takes over what the dead one held: the relay
requeues actions stalled for ``workers.relay.STALLED_AFTER``, beat's sweep settles expired
leases) and everything is counted at the SendGrid stub, key by key: ``missing`` (answered
2xx, no confirmation mail), ``duplicates`` (a mail accepted more than once),
``delivered_unanswered`` (committed by a dying host whose answer never reached the supporter:
delivered, which is right). Beat: how
often each beat fired each schedule entry (``beat_fired``); exactly one of the two may.

    python bench/multihost.py --quick      # about a minute (longer if a task died with its host)
    python bench/multihost.py --seconds 30
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actionwave.platform.config import Settings
from bench.harness import REDIS_URL, ROOT, free_port, nginx_proxy, scratch_database
from bench.intake import PATH

SHARED_DATA = ROOT.parent / "shared" / "data"
SENDING = re.compile(r"Sending due task ([\w-]+)")


@dataclass
class Host:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def kill(self) -> None:
        """The machine is gone: every process of the host at once, no shutdown."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """As a deploy stops it: SIGTERM to the host's first process (gunicorn's master finishes
        its requests; the worker's supervisor passes it on for a warm shutdown)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_host(name: str, args: list[str], settings: Settings, work: Path,
               ready: str | None = None) -> Host:
    """``python -m actionwave ARGS`` in a process group of its own, as host ``name``."""
    instance = work / name
    instance.mkdir(exist_ok=True)
    log = work / f"{name}.log"
    env = {**os.environ, **replace(settings, instance_path=instance).to_env()}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "actionwave", *args], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    host = Host(name, process, log)
    deadline = time.monotonic() + 60
    while ready and ready.encode() not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            host.kill()
            raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return host


def start_web(name: str, settings: Settings, work: Path, port: int | None = None) -> Host:
    port = port or free_port()
    host = start_host(name, ["web", "--port", str(port), "--workers", "1"], settings, work)
    host.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{host.url}/healthz", timeout=1):
                return host
        except OSError as exc:
            if host.process.poll() is not None or time.monotonic() > deadline:
                host.kill()
                raise RuntimeError(f"{name} did not start: {host.log.read_text()[-2000:]}") \
                    from exc
            time.sleep(0.1)


ACCEPTED_HERE = re.compile(r'^actionwave_intake_submissions_total\{outcome="accepted"\} (\S+)$',
                           re.M)


def wait_in_rotation(web: Host, timeout: float = 60) -> None:
    """Until the balancer sends ``web`` submissions again: it shuns a host for its
    ``fail_timeout`` (10 s) after a failed request, so a restarted host may answer /readyz well
    before it gets traffic. Its own count of accepted submissions (``/metrics?scope=host``,
    this host's only) tells."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{web.url}/metrics?scope=host", timeout=5) as answer:
                found = ACCEPTED_HERE.search(answer.read().decode())
        except OSError:
            found = None
        if found and float(found.group(1)) > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{web.name} got no submission through the balancer in {timeout} s")


@dataclass
class Load:
    """Closed-loop supporters posting through the balancer until ``stop`` is set."""

    base: str
    threads: int
    tag: str
    accepted: dict[str, str] = field(default_factory=dict)  # action id -> email
    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, seconds: float, midway: Any = None) -> float:
        """Load for ``seconds``; ``midway()`` is called half-way, and the load goes on until
        it has returned and the seconds are up."""
        workers = [threading.Thread(target=self._client, args=(n,)) for n in range(self.threads)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        if midway is not None:
            time.sleep(seconds / 2)
            midway()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        self.stop.set()
        for worker in workers:
            worker.join()
        return time.monotonic() - started

    def _client(self, n: int) -> None:
        host, port = self.base.removeprefix("http://").split(":")
        connection: http.client.HTTPConnection | None = None
        count = 0
        while not self.stop.is_set():
            count += 1
            email = f"{self.tag}-{n}-{count}@example.org"
            body = json.dumps({"email": email, "first_name": "Many", "last_name": "Hosts",
                               "zip": "60601"})
            sent = time.perf_counter()
            try:
                connection = connection or http.client.HTTPConnection(host, int(port), timeout=30)
                connection.request("POST", PATH, body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException):
                status = "socket_error"
                if connection is not None:
                    connection.close()
                connection = None
            with self.lock:
                self.statuses[status] += 1
                if status.startswith("2"):
                    self.accepted[json.loads(answer)["id"]] = email
                    self.latencies_ms.append((time.perf_counter() - sent) * 1000)
        if connection is not None:
            connection.close()

    def figures(self, elapsed: float) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {"accepted": len(self.accepted),
                "accepted_per_s": round(len(self.accepted) / elapsed, 1),
                "answers": dict(self.statuses),
                "p50_ms": round(statistics.median(ordered), 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)}


def stub_keys(mail_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{mail_url}/_stub/keys", timeout=30) as response:
        return json.loads(response.read())


def drain(mail_url: str, accepted: set[str], timeout: float) -> tuple[dict[str, int], float]:
    """Wait until every accepted action's confirmation is at the stub (or ``timeout``)."""
    started = time.monotonic()
    while True:
        keys = stub_keys(mail_url)
        delivered = {key.removeprefix("confirmation:") for key in keys}
        if accepted <= delivered or time.monotonic() - started > timeout:
            return keys, time.monotonic() - started
        time.sleep(1)


def beat_firings(beats: list[Host]) -> dict[str, dict[str, int]]:
    """How many times each beat sent each schedule entry, from its log."""
    return {beat.name: dict(Counter(SENDING.findall(beat.log.read_text(errors="replace"))))
            for beat in beats}


def run(settings: Settings, work: Path, mail_url: str, seconds: float, threads: int,
        drain_timeout: float) -> dict[str, Any]:
    """The two rounds on an already migrated database holding the campaign and legislators."""
    with ExitStack() as stack:
        hosts: list[Host] = []
        stack.callback(lambda: [host.stop() for host in reversed(hosts)])
        webs = [start_web(f"web-{h}", settings, work) for h in ("hostA", "hostB")]
        hosts += webs
        workers = [start_host(f"worker-{h}", ["worker", "-n", f"worker@{h}",
                                              "--without-heartbeat", "--without-gossip",
                                              "--without-mingle"], settings, work, "ready.")
                   for h in ("hostA", "hostB")]
        hosts += workers
        beats = [start_host(f"beat-{h}", ["beat"], settings, work, "beat: Starting")
                 for h in ("hostA", "hostB")]
        hosts += beats
        beat_started = time.monotonic()
        balancer = stack.enter_context(nginx_proxy([web.url for web in webs]))

        baseline = Load(balancer, threads, f"base{secrets.token_hex(2)}")
        base = baseline.figures(baseline.run(seconds))
        launch = Load(balancer, threads, f"launch{secrets.token_hex(2)}")
        killed: list[str] = []

        def kill_hosts() -> None:
            for host in (webs[0], workers[0]):
                host.kill()
                killed.append(host.name)

        mine = launch.figures(launch.run(seconds, midway=kill_hosts))
        # A rolling deploy: the dead host comes back, then each web host in turn is stopped as a
        # deploy stops it and started again, while supporters keep submitting.
        rolling = Load(balancer, threads, f"roll{secrets.token_hex(2)}")

        def roll() -> None:
            port = int(webs[0].url.rsplit(":", 1)[1])
            webs[0] = start_web(webs[0].name, settings, work, port=port)
            hosts.append(webs[0])
            for n, web in enumerate(list(webs)):
                for other in webs:
                    wait_in_rotation(other)  # as a deploy waits before taking the next out
                web.stop()
                webs[n] = start_web(web.name, settings, work, port=int(web.url.rsplit(":", 1)[1]))
                hosts.append(webs[n])

        rolled = rolling.figures(rolling.run(seconds, midway=roll))
        accepted = set(baseline.accepted) | set(launch.accepted) | set(rolling.accepted)
        keys, drained_s = drain(mail_url, accepted, drain_timeout)
        beat_seconds = time.monotonic() - beat_started
        fired = beat_firings(beats)
    delivered = Counter({key.removeprefix("confirmation:"): n for key, n in keys.items()
                         if key.startswith("confirmation:")})
    entries = {entry for counts in fired.values() for entry in counts}
    return {
        "baseline": base, "launch": mine, "rolling_deploy": rolled,
        "ratio": round(mine["accepted_per_s"] / max(base["accepted_per_s"], 0.1), 3),
        "killed": killed, "accepted": len(accepted),
        "delivered_once": sum(1 for a in accepted if delivered[a] == 1),
        "missing": sum(1 for a in accepted if delivered[a] == 0),
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        "delivered_unanswered": len(set(delivered) - accepted),
        "drain_s": round(drained_s, 1),
        "beat_fired": fired,
        "beats_firing_each_entry": {e: sum(1 for c in fired.values() if c.get(e)) for e in entries},
        "sweeps_expected": round(beat_seconds / settings.delivery_sweep_seconds),
        "seconds_per_round": seconds, "threads": threads,
        "hosts": "2 web (gunicorn, 1 gevent process each) behind nginx, 2 workers "
                 f"({settings.worker_concurrency} threads), 2 beats; one PostgreSQL, one Redis",
    }


def bench_settings(database_url: str, mail_url: str, work: Path) -> Settings:
    return Settings.from_env(
        {}, database_url=database_url, broker_url=REDIS_URL, redis_url=REDIS_URL,
        namespace=f"aw-multihost-{secrets.token_hex(3)}", instance_path=work,
        secret_key="bench", log_level="INFO", celery_log_level="INFO",  # beat's sends are counted
        sendgrid_api_key="SG.test-key",
        sendgrid_api_host=mail_url, mail_from="Bench <bench@example.org>",
        worker_pool="threads", worker_concurrency=4, trusted_proxies=1,
        rate_limit_per_ip="", rate_limit_per_email="", delivery_lease_seconds=15.0,
        metrics_allowed_ips="127.0.0.1",
        task_soft_time_limit_seconds=10.0, task_time_limit_seconds=12.0)


def main() -> None:
    from bench.intake import load_campaign
    from bench.launch import sync_legislators
    from bench.pipeline import start_stub

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 s rounds")
    parser.add_argument("--seconds", type=float, default=20.0, help="per round")
    parser.add_argument("--threads", type=int, default=16, help="closed-loop clients")
    parser.add_argument("--drain-timeout", type=float, default=420.0)
    parser.add_argument("--data", default=str(SHARED_DATA), help="legislator data source")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 4.0
    stub, mail_url = start_stub()
    try:
        with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(url, mail_url, Path(tmp))
            load_campaign(url)
            sync_legislators(settings, args.data)
            result = run(settings, Path(tmp), mail_url, args.seconds, args.threads,
                         args.drain_timeout)
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        if stub.stdout is not None:
            stub.stdout.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
