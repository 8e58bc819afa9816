"""The portal's processes for the high-availability tests: a daphne app server on a port
of 9250-9299 and a Celery worker, configured by environment only, stopped by PID."""

import os
import signal
import subprocess
import sys

from tests.faults.stack import WORKER_COMMAND
from tests.ha.ports import APP_PORTS, bindable
from tests.live import ROOT, LiveServer

ARTIFACTS = ROOT / "test-artifacts"


def start_app_server(*, exclude: frozenset[int] = frozenset(), **env: str) -> LiveServer:
    """A LiveServer on the first free port of the app range but `exclude` (daphne gets the
    bound socket, so a port found free cannot be lost on the way)."""
    start = os.getpid() % len(APP_PORTS)
    ports = list(APP_PORTS)
    for port in ports[start:] + ports[:start]:
        if port in exclude or not bindable(port):
            continue
        try:
            return LiveServer(port=port, **env).start()
        except OSError:
            continue
    raise RuntimeError("no free port in 9250-9299")


class Worker:
    """`celery -A portal worker` on the three queues, as the fault tests run it."""

    def __init__(self, name: str, **env: str) -> None:
        self.env = env
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        ARTIFACTS.mkdir(exist_ok=True)
        log = (ARTIFACTS / f"worker-{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [*WORKER_COMMAND, "-n", f"{self.name}@%h"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """A management command in a process of its own, configured like the servers."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr
