"""A Redis master, its replica and sentinels in front of them, as separate processes on
127.0.0.1, started and stopped (by PID) by a test: the set-up docs/operations.md
describes, small. The sentinels fail over one second after the master stops answering."""

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from loadtests.servers import log_written_since
from tests.ha.ports import REDIS_PORTS, SENTINEL_PORTS, free_ports
from tests.live import ROOT

ARTIFACTS = ROOT / "test-artifacts"
MASTER_NAME = "portal-ha"


class PortTaken(Exception):
    pass


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class RedisProcess:
    """One redis-server (or redis-sentinel) on a port of its own; stop() ends it by PID."""

    def __init__(self, command: list[str], port: int, name: str) -> None:
        self.command = command
        self.port = port
        self.name = name
        self.process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return ARTIFACTS / f"ha-{self.name}-{self.port}.log"

    def client(self, **options) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2, **options)

    def answers(self) -> bool:
        """Ours answers: the server on the port reports this process's PID."""
        assert self.process is not None
        client = self.client()
        try:
            return client.info("server")["process_id"] == self.process.pid
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self, timeout: float = 20) -> "RedisProcess":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            logged_before = log.tell()
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if "Address already in use" in log_written_since(self.log_path, logged_before):
                    raise PortTaken(self.port)
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.port}; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost machine: nothing saved, no goodbye to clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    stop = kill


def redis_server(port: int, name: str, data_dir: Path, *extra: str) -> RedisProcess:
    command = [
        "redis-server",
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data_dir),
        *extra,
    ]  # fmt: skip
    return RedisProcess(command, port, name)


class SentinelSet:
    """A master, one replica and `count` sentinels (quorum: a majority) watching them."""

    def __init__(self, data_dir: Path, *, count: int = 3) -> None:
        self.data_dir = data_dir
        self.count = count
        self.servers: dict[int, RedisProcess] = {}  # port → data node
        self.sentinels: list[RedisProcess] = []

    # --- start and stop -------------------------------------------------------------------

    def start(self) -> "SentinelSet":
        for _attempt in range(5):
            master_port, replica_port = free_ports(REDIS_PORTS, 2)
            try:
                master = redis_server(master_port, "master", self.data_dir).start()
                self.servers[master_port] = master
                replica = redis_server(
                    replica_port,
                    "replica",
                    self.data_dir,
                    "--replicaof", "127.0.0.1", str(master_port),
                ).start()  # fmt: skip
                self.servers[replica_port] = replica
                break
            except PortTaken:
                self.stop()
        else:
            raise RuntimeError("no two free Redis ports")
        self._start_sentinels(master_port)
        wait_for(self._settled, timeout=60, what="the replica and the sentinels to settle")
        return self

    def _start_sentinels(self, master_port: int) -> None:
        quorum = self.count // 2 + 1
        taken: set[int] = set()
        while len(self.sentinels) < self.count:
            (port,) = free_ports(SENTINEL_PORTS, 1, exclude=taken)
            taken.add(port)
            config = self.data_dir / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.data_dir}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} {quorum}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            )
            sentinel = RedisProcess(["redis-sentinel", str(config)], port, "sentinel")
            try:
                self.sentinels.append(sentinel.start())
            except PortTaken:
                continue

    def _settled(self) -> bool:
        """Every sentinel knows the others and the replica, and the replica is in sync."""
        try:
            for sentinel in self.sentinels:
                state = sentinel.client(decode_responses=True).sentinel_master(MASTER_NAME)
                if state["num-other-sentinels"] != self.count - 1 or state["num-slaves"] < 1:
                    return False
            replica = next(port for port in self.servers if port != self.master_port())
            info = self.servers[replica].client(decode_responses=True).info("replication")
            return info.get("master_link_status") == "up"
        except (redis.RedisError, StopIteration):
            return False

    def stop(self) -> None:
        for process in [*self.sentinels, *self.servers.values()]:
            process.stop()
        self.sentinels.clear()
        self.servers.clear()

    # --- what the portal is given -----------------------------------------------------------

    @property
    def addresses(self) -> str:
        return ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)

    def env(self) -> dict[str, str]:
        return {"REDIS_SENTINELS": self.addresses, "REDIS_MASTER_NAME": MASTER_NAME}

    # --- faults ------------------------------------------------------------------------------

    def master_port(self) -> int:
        """The master's port, as the first sentinel that answers names it."""
        for sentinel in self.sentinels:
            try:
                _host, port = sentinel.client().sentinel_get_master_addr_by_name(MASTER_NAME)
                return int(port)
            except (redis.RedisError, TypeError):
                continue
        raise RuntimeError("no sentinel answered")

    def master(self) -> RedisProcess:
        return self.servers[self.master_port()]

    def kill_master(self) -> int:
        """SIGKILL the master; its port."""
        port = self.master_port()
        self.servers[port].kill()
        return port

    def wait_for_new_master(self, old_port: int, *, timeout: float = 60) -> RedisProcess:
        """Until every sentinel names another master and that server says it is one."""

        def promoted() -> RedisProcess | None:
            ports = set()
            for sentinel in self.sentinels:
                try:
                    ports.add(
                        int(sentinel.client().sentinel_get_master_addr_by_name(MASTER_NAME)[1])
                    )
                except (redis.RedisError, TypeError):
                    return None
            if len(ports) != 1 or old_port in ports:
                return None
            server = self.servers[ports.pop()]
            try:
                return server if server.client().info("replication")["role"] == "master" else None
            except redis.RedisError:
                return None

        return wait_for(promoted, timeout=timeout, what="a replica promoted to master")
