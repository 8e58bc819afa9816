"""Portal server processes on 127.0.0.1 for benchmarks and live tests: daphne (the
default) or uvicorn serving portal.asgi, and a Celery worker, started and stopped by the
caller."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_written_since(path: Path, offset: int) -> str:
    """What a process wrote to its log file after `offset` (the file is appended to)."""
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


class PortTaken(Exception):
    """The server could not bind its port: something took it after we found it free."""


def listening_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port, to hand to a server process."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(1024)
    except OSError:
        listener.close()
        raise
    return listener


class ServerProcess:
    """One server process; start() returns once /healthz answers.

    daphne is handed a socket this process has bound (`daphne --fd`): a port found free
    can be taken before a server binds it, by another test process starting a server of
    its own, whose /healthz would then answer for ours. uvicorn binds its port itself (its
    --fd takes Unix sockets only); a chosen port it finds taken is chosen again.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        server: str = "daphne",
        log_dir: Path | None = None,
        **env: str,
    ) -> None:
        self.port = port or free_port()
        self.port_chosen_here = port is None
        self.server = server
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log_dir = log_dir or ROOT / "test-artifacts"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.server}-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def command(self, listener: socket.socket | None = None) -> list[str]:
        if self.server == "uvicorn":
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "portal.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--ws",
                "websockets",
            ]
        if listener is None:
            return [
                sys.executable, "-m", "daphne",
                "-b", "127.0.0.1", "-p", str(self.port),
                "portal.asgi:application",
            ]  # fmt: skip
        return [
            sys.executable,
            "-m",
            "daphne",
            "--fd",
            str(listener.fileno()),
            "portal.asgi:application",
        ]

    def start(self, timeout: float = 30) -> "ServerProcess":
        for _attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                self.port = free_port()
        return self._start(timeout)

    def _listen(self) -> socket.socket | None:
        if self.server != "daphne":
            return None
        try:
            return listening_socket(self.port)
        except OSError:
            if not self.port_chosen_here:
                raise
        listener = listening_socket(0)
        self.port = listener.getsockname()[1]
        return listener

    def _start(self, timeout: float) -> "ServerProcess":
        env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost", **self.env}
        listener = self._listen()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.log_path.open("ab") as log:
                logged_before = log.tell()
                self.process = subprocess.Popen(
                    self.command(listener),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                    pass_fds=(listener.fileno(),) if listener else (),
                )
        finally:
            if listener is not None:
                listener.close()  # the server holds it now; closed when it stops
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                output = log_written_since(self.log_path, logged_before)[-2000:]
                if self.port_chosen_here and "Address already in use" in output:
                    raise PortTaken(self.port)
                raise RuntimeError(f"server exited: {output}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.server} on port {self.port} did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


class CeleryWorker:
    """A Celery worker process for the portal's jobs, as production runs one (the prefork
    pool, `celery -A portal worker`), on `queues`; start() returns once it says it is
    ready, stop() ends it by its PID."""

    def __init__(
        self,
        *,
        queues: tuple[str, ...] = ("default",),
        concurrency: int = 1,
        name: str = "bench",
        log_dir: Path | None = None,
        **env: str,
    ) -> None:
        self.queues = queues
        self.concurrency = concurrency
        self.name = name
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log_dir = log_dir or ROOT / "test-artifacts"
        self.logged_before = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"celery-{self.name}.log"

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
            *("-Q", ",".join(self.queues), "--concurrency", str(self.concurrency)),
            *("-n", f"{self.name}-{os.getpid()}@%h", "-l", "info"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]

    def start(self, timeout: float = 60) -> "CeleryWorker":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.logged_before = log.tell()
            # A session of its own: its pool's children go with it if it must be killed.
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.log()
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"celery worker exited: {output[-2000:]}")
            if " ready." in output:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("celery worker did not come up")

    def log(self) -> str:
        """What the worker wrote since it was started."""
        return log_written_since(self.log_path, self.logged_before)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the pool's children end with it
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
