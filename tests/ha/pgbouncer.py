"""A PgBouncer in transaction mode in front of the test database, on a port of the app
range: one server connection for every client (default_pool_size 1), so anything that
leaned on a session (a cursor kept open across transactions, a prepared statement, a
session setting PgBouncer does not carry over) would meet another client's connection.
Runs as `postgres` when the tests run as root (PgBouncer refuses root); stopped by PID."""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.ha.ports import APP_PORTS, free_ports
from tests.ha.servers import ARTIFACTS, wait_for


class PgBouncer:
    def __init__(self, database: dict) -> None:
        self.database = database  # Django's settings_dict of the database behind it
        self.root = Path(tempfile.mkdtemp(prefix="portal-ha-pgbouncer-", dir="/tmp"))
        (self.port,) = free_ports(APP_PORTS, 1)
        self.process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return self.database["NAME"]

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.name}"

    def start(self) -> "PgBouncer":
        db = self.database
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"{self.name} = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
            f"dbname={self.name} user={db['USER'] or 'postgres'}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir = {self.root}\n"
            f"pidfile = {self.root / 'pgbouncer.pid'}\n"
            "auth_type = trust\n"
            f"auth_file = {self.root / 'users.txt'}\n"
            "admin_users = postgres\n"
            "pool_mode = transaction\n"
            "default_pool_size = 1\n"
            "max_client_conn = 200\n"
            # libpq's `options` (the test settings' synchronous_commit) is a startup
            # parameter PgBouncer cannot pass on per transaction.
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        (self.root / "users.txt").write_text('"postgres" ""\n')
        command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(config)]
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            for path in self.root.iterdir():
                shutil.chown(path, "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        ARTIFACTS.mkdir(exist_ok=True)
        log = (ARTIFACTS / f"ha-pgbouncer-{self.port}.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for(self._answers, timeout=30, what=f"PgBouncer on {self.port}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError("pgbouncer exited; see test-artifacts")
        try:
            with psycopg.connect(self.url(), connect_timeout=2, prepare_threshold=None):
                return True
        except psycopg.OperationalError:
            return False

    def stats(self) -> dict:
        """SHOW STATS for the database (the admin console speaks the simple protocol only)."""
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/pgbouncer", autocommit=True
        ) as admin:
            cursor = admin.cursor()
            cursor.execute("SHOW STATS", prepare=False)
            columns = [column.name for column in cursor.description]
            for row in cursor.fetchall():
                if row[0] == self.name:
                    return dict(zip(columns, row, strict=True))
        return {}

    def stop(self) -> None:
        """SIGINT (a safe shutdown) to the PID PgBouncer wrote (under runuser, the process
        started here is runuser's), then SIGKILL if it lingers."""
        pid_file = self.root / "pgbouncer.pid"
        pid = int(pid_file.read_text().strip()) if pid_file.exists() else None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pid = None
        if self.process is not None:
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
