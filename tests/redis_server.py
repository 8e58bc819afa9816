"""A private redis-server for fault tests: started on a port of its own on 127.0.0.1 and
stopped by its PID, so a test can take "the cache" (or the broker) down without touching
the shared Redis."""

import shutil
import subprocess
import time
from pathlib import Path

import redis

from loadtests.servers import log_written_since
from tests.live import ROOT, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
ARTIFACTS = ROOT / "test-artifacts"


class PrivateRedis:
    """`durable`: configured as a broker must be (docker-compose.yml), its append-only file
    in `data_dir` keeps queued jobs across a crash (fsync on every write here, so a SIGKILL
    loses none). Otherwise nothing is kept."""

    def __init__(self, data_dir: Path | None = None, *, durable: bool = False) -> None:
        self.port = free_port()
        self.data_dir = data_dir or ARTIFACTS
        self.durable = durable
        self.process: subprocess.Popen | None = None
        self.started_once = False

    @property
    def log_path(self) -> Path:
        return ARTIFACTS / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 20) -> "PrivateRedis":
        """Start it (again, after stop(): on the same port, with what the file kept). A port
        found free can be taken before the server binds it; the first start then takes
        another."""
        for _attempt in range(3):
            if self._start(timeout):
                self.started_once = True
                return self
            if self.started_once:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server could not bind port {self.port}; see {self.log_path}")

    def _start(self, timeout: float) -> bool:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.durable
            else ["--appendonly", "no"]
        )
        command = [
            REDIS_SERVER,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--dir", str(self.data_dir),
            *persistence,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            logged_before = log.tell()
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if "Address already in use" in log_written_since(self.log_path, logged_before):
                    return False
                raise RuntimeError(f"redis-server exited; see {self.log_path}")
            if self._answers():
                return True
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on {self.port}; see {self.log_path}")

    def _answers(self) -> bool:
        """Ours answers: the server on the port reports this process's PID (another test
        process's private Redis may hold the port while ours fails to bind it)."""
        assert self.process is not None
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return client.info("server")["process_id"] == self.process.pid
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL, as a crash would: nothing is saved on the way down."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
