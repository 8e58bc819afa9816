"""A private PostgreSQL primary and a streaming standby of it (pg_basebackup -R), each a
postmaster on a port of the app range, for the test of the replica's replay position.
Both run as the `postgres` user when the tests run as root (PostgreSQL refuses root), in
a folder of their own under /tmp, and are stopped by the PIDs in their postmaster.pid."""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.ha.ports import APP_PORTS, free_ports
from tests.ha.servers import ARTIFACTS, wait_for

# The server's own programs (initdb, postgres, pg_basebackup) of the newest version installed.
BIN = max(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])).parent


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


class Postmaster:
    def __init__(self, data: Path, port: int, name: str) -> None:
        self.data, self.port, self.name = data, port, name
        self.process: subprocess.Popen | None = None

    def start(self) -> "Postmaster":
        ARTIFACTS.mkdir(exist_ok=True)
        log = (ARTIFACTS / f"ha-postgres-{self.name}-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            _as_postgres(
                [
                    str(BIN / "postgres"),
                    "-D", str(self.data),
                    "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", f"unix_socket_directories={self.data}",
                    "-c", "fsync=off",
                ]
            ),
            stdout=log,
            stderr=log,
        )  # fmt: skip
        wait_for(self._answers, timeout=60, what=f"PostgreSQL {self.name} on {self.port}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"postgres {self.name} exited; see test-artifacts")
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        """A fast shutdown of the postmaster (SIGINT to the PID it wrote), then SIGKILL."""
        pid_file = self.data / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pid = None
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


class StreamingPair:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="portal-ha-pg-", dir="/tmp"))
        self.primary: Postmaster | None = None
        self.standby: Postmaster | None = None

    def start(self) -> "StreamingPair":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        primary_port, standby_port = free_ports(APP_PORTS, 2)
        primary_data, standby_data = self.root / "primary", self.root / "standby"
        _run([str(BIN / "initdb"), "-D", str(primary_data), "-U", "postgres", "-A", "trust"])
        (primary_data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        self.primary = Postmaster(primary_data, primary_port, "primary").start()
        _run(
            [
                str(BIN / "pg_basebackup"),
                "-h", "127.0.0.1",
                "-p", str(primary_port),
                "-U", "postgres",
                "-D", str(standby_data),
                "-R",  # standby.signal and primary_conninfo: a streaming standby
                "-X", "stream",
            ]
        )  # fmt: skip
        self.standby = Postmaster(standby_data, standby_port, "standby").start()
        return self

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            if server is not None:
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
