"""The production-like stack a load run measures, on this machine, started and stopped by
the runner: PostgreSQL (a database of its own on the server at DATABASE_URL), Redis (a
private redis-server, or databases of a given one), N daphne processes behind nginx (made
from deploy/nginx.conf), one Celery worker per queue and beat, on the production settings
with collected static files and the demo catalog.

Every process gets a session (process group) of its own: Ctrl-C in the runner's terminal
reaches only the runner, which stops them in order, each by its group."""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

from loadtests.scaling.nginx import nginx_binary, nginx_check, nginx_command, nginx_prepare
from loadtests.servers import free_port, listening_socket

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("emails", "default", "notifications")  # portal/celery.py
# Variables of the caller's shell that would make the stack something else than the
# production configuration measured here (the test settings' eager jobs, Stripe, ...).
DROPPED_PREFIXES = ("RATE_LIMIT_", "MEILI_", "STRIPE_", "EMAIL_", "WS_MAX_")
DROPPED = {
    "DEBUG", "PAYMENT_GATEWAY", "CELERY_TASK_ALWAYS_EAGER", "RUN_SCHEDULE_IN_PROCESS",
    "PORTAL_TEST_SERVER", "PYTHONDONTWRITEBYTECODE", "CHANNEL_LAYER", "PORTAL_VAR_DIR",
    "DB_CONN_MAX_AGE", "LOG_FORMAT",
}  # fmt: skip
# Every simulated user comes from 127.0.0.1: the limits counted per client address are
# raised out of reach (still counted, as in production); those per account or per email
# stay as deployed.
PER_ADDRESS_LIMITS = (
    "RATE_LIMIT_ENROLL",  # guests' enrollments count per address
    "RATE_LIMIT_ENROLL_IP",
    "RATE_LIMIT_DECLINE_IP",
    "RATE_LIMIT_COUPON_QUOTE",
    "RATE_LIMIT_LOGIN_IP",
    "WS_MAX_SOCKETS_PER_ADDRESS",
)


class StackError(RuntimeError):
    """A part of the stack did not come up."""


@dataclass
class Ports:
    """With a base: nginx on it, Locust's master on +1, the private Redis on +2, daphnes
    from +10. Without one, each server gets a free port when it starts (daphne binds port
    0 itself; nginx, Redis and Locust are started again on another port in the rare case
    that something took theirs in between)."""

    base: int | None
    nginx: int = 0
    daphnes: list[int] = field(default_factory=list)

    def pick(self, offset: int) -> int:
        return self.base + offset if self.base is not None else free_port()


@dataclass
class Service:
    """One process (and its children) in a session of its own, logging to a file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    ready: Callable[["Service"], bool]
    pass_fds: tuple[int, ...] = ()
    process: subprocess.Popen | None = None

    def start(self, timeout: float) -> "Service":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=self.pass_fds,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(f"{self.name} exited ({self.process.returncode}): {self.tail()}")
            if self.ready(self):
                return self
            time.sleep(0.25)
        raise StackError(f"{self.name} was not ready within {timeout:.0f}s: {self.tail()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, chars: int = 1500) -> str:
        return self.log()[-chars:]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def processes(self) -> list[psutil.Process]:
        """The process and its children (a Celery pool, Locust's workers)."""
        if self.process is None or self.process.poll() is not None:
            return []
        try:
            main = psutil.Process(self.process.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Whatever is left of its group (a pool child that outlived its parent).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)
        self.process = None


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def logged(text: str) -> Callable[[Service], bool]:
    return lambda service: text in service.log()


def static_fresh(static_root: Path) -> bool:
    """True when collectstatic's manifest is newer than every file of the portal's static
    folders (compressing them all again takes a minute on 2 busy cores)."""
    manifest = static_root / "staticfiles.json"
    if not manifest.exists():
        return False
    collected = manifest.stat().st_mtime
    sources = [path for folder in ROOT.glob("*/static") for path in folder.rglob("*")]
    return all(path.stat().st_mtime < collected for path in sources if path.is_file())


def database_ensure(url: str) -> None:
    """Create the database named in `url` on its server when it does not exist."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def database_backends(url: str) -> list[int]:
    """PIDs of the PostgreSQL backends serving `url`'s database (the server is local)."""
    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [parts.path.lstrip("/")],
        ).fetchall()
    return [pid for (pid,) in rows]


@dataclass
class StackOptions:
    app_processes: int
    database_url: str
    folder: Path  # this run's logs
    state: Path  # kept between runs: static files, media, the private Redis' folder
    redis_url: str | None = None  # None: a private redis-server
    broker_url: str | None = None
    redis_port: int | None = None
    port_base: int | None = None
    courses: int = 2000
    db_pool: int = 10
    celery_concurrency: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.ports = Ports(base=options.port_base)
        self.services: list[Service] = []
        self.redis: Service | None = None
        self.label = secrets.token_hex(3)
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.nginx}"

    @property
    def logs(self) -> Path:
        return self.options.folder / "logs"

    # --- bring-up ---------------------------------------------------------------------

    def start(self, say: Callable[[str], None] = print) -> "Stack":
        options = self.options
        redis_url, broker_url = self._redis(say)
        self.env = self._portal_env(redis_url, broker_url)
        say(f"database {options.database_url.rsplit('/', 1)[-1]}: migrate, demo catalog")
        database_ensure(options.database_url)
        self.manage("migrate", "--no-input", "-v", "0", timeout=900)
        self.manage(
            "load_demo_data", "--if-empty", "--courses", str(options.courses), "--no-progress",
            timeout=1800,
        )  # fmt: skip
        if static_fresh(options.state / "static"):
            say("static files collected already")
        else:
            say("collectstatic (hashed names, gzip and Brotli copies)")
            self.manage("collectstatic", "--no-input", "-v", "0", timeout=900)
        for index in range(options.app_processes):
            self._daphne(options.port_base + 10 + index if options.port_base is not None else 0)
        say(f"{len(self.ports.daphnes)} daphne on {', '.join(map(str, self.ports.daphnes))}")
        for queue in QUEUES:
            self._start(self._celery_worker(queue), timeout=120)
        self._start(
            Service(
                name="celery-beat",
                command=[
                    sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "info",
                    "--schedule", str(options.state / f"celerybeat-{self.label}"),
                ],
                env=self.env,
                log_path=self.logs / "celery-beat.log",
                ready=logged("beat: Starting"),
            ),
            timeout=120,
        )  # fmt: skip
        say(f"celery workers for {', '.join(QUEUES)} and beat")
        self._nginx()
        say(f"nginx on {self.url} in front of them")
        return self

    def manage(self, *args: str, timeout: float) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise StackError(
                f"manage.py {args[0]} failed: {(result.stdout + result.stderr)[-3000:]}"
            )
        return result.stdout

    def _start(self, service: Service, timeout: float) -> Service:
        self.services.append(service)  # before it starts: an interrupt stops it too
        try:
            return service.start(timeout)
        except BaseException:
            service.stop()
            self.services.remove(service)
            raise

    def _start_on_a_port(self, make: Callable[[int], Service], offset: int, timeout: float) -> int:
        """Start the service `make(port)` returns; on a free port taken meanwhile, again on
        another (never with fixed ports: those are the caller's to keep free)."""
        for attempt in range(3):
            port = self.ports.pick(offset)
            try:
                self._start(make(port), timeout=timeout)
                return port
            except StackError as exc:
                if self.ports.base is not None or attempt == 2 or "in use" not in str(exc):
                    raise
        raise AssertionError("unreachable")

    def locust_port(self) -> int:
        """A port for Locust's master (the runner starts it again if it was taken)."""
        return self.ports.pick(1)

    def _redis(self, say: Callable[[str], None]) -> tuple[str, str]:
        options = self.options
        if options.redis_url:
            return options.redis_url, options.broker_url or options.redis_url
        # With fixed ports, the private Redis takes base + 2 (nginx base, Locust base + 1).
        folder = options.state / "redis"
        folder.mkdir(parents=True, exist_ok=True)

        def redis(port: int) -> Service:
            return Service(
                name="redis",
                command=[
                    "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                    "--appendonly", "no", "--dir", str(folder), "--maxclients", "10000",
                ],
                env=dict(os.environ),
                log_path=self.logs / "redis.log",
                ready=logged("Ready to accept connections"),
            )  # fmt: skip

        if options.redis_port:
            port = options.redis_port
            self.redis = redis(port)  # set first: stop() ends it whatever happens next
            self.redis.start(timeout=30)
        else:
            port = self._start_on_a_port(redis, 2, timeout=30)
            self.redis = self.services.pop()  # stopped last, after everything that uses it
        say(f"redis-server on 127.0.0.1:{port}")
        return f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"

    def _portal_env(self, redis_url: str, broker_url: str) -> dict[str, str]:
        options = self.options
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in DROPPED and not name.startswith(DROPPED_PREFIXES)
        }
        site = self.url
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "portal.settings_production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": site,
                "SITE_URL": site,
                # nginx here speaks plain HTTP; a deployment terminates TLS in front of it.
                "SECURE_SSL_REDIRECT": "false",
                "TRUSTED_PROXY_COUNT": "1",
                "DATABASE_URL": options.database_url,
                "DB_POOL_MAX_SIZE": str(options.db_pool),
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": broker_url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                # Pub/sub channels ignore database numbers: a prefix keeps runs apart.
                "CHANNEL_LAYER_PREFIX": f"loadtest-{self.label}",
                "CACHE_KEY_PREFIX": f"loadtest-{self.label}",
                "PAYMENT_GATEWAY": "test",
                "STATIC_ROOT": str(options.state / "static"),
                "MEDIA_ROOT": str(options.state / "media"),
                "PORTAL_VAR_DIR": str(options.state / "var"),
                **{name: "1000000" for name in PER_ADDRESS_LIMITS},
                **options.extra_env,
            }
        )
        return env

    def _daphne(self, port: int) -> None:
        """A daphne on `port` (0: any free one), handed a socket bound here: the port
        cannot be taken between choosing and serving it."""
        listener = listening_socket(port)
        port = listener.getsockname()[1]
        try:
            self._start(
                Service(
                    name=f"daphne-{port}",
                    command=[
                        sys.executable, "-m", "daphne", "--fd", str(listener.fileno()),
                        "portal.asgi:application",
                    ],
                    env=self.env,
                    log_path=self.logs / f"daphne-{port}.log",
                    ready=lambda _service: http_ok(f"http://127.0.0.1:{port}/healthz"),
                    pass_fds=(listener.fileno(),),
                ),
                timeout=120,
            )  # fmt: skip
        finally:
            listener.close()
        self.ports.daphnes.append(port)

    def _celery_worker(self, queue: str) -> Service:
        return Service(
            name=f"celery-{queue}",
            command=[
                sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue,
                "--concurrency", str(self.options.celery_concurrency),
                "-n", f"{queue}-{self.label}@%h", "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            env=self.env,
            log_path=self.logs / f"celery-{queue}.log",
            ready=logged(" ready."),
        )  # fmt: skip

    def _nginx(self) -> None:
        binary = nginx_binary()
        if binary is None:
            raise StackError("nginx is not installed (apt-get install -y nginx)")
        folder = self.options.folder / "nginx"

        def nginx(port: int) -> Service:
            self.ports.nginx = port
            config = nginx_prepare(folder=folder, listen_port=port, upstreams=self.ports.daphnes)
            nginx_check(binary, config=config, folder=folder)
            return Service(
                name="nginx",
                command=nginx_command(binary, config=config, folder=folder),
                env=dict(os.environ),
                log_path=self.logs / "nginx.log",
                ready=lambda _service: http_ok(self.url + "/readyz"),
            )

        self._start_on_a_port(nginx, 0, timeout=60)

    # --- measuring ----------------------------------------------------------------------

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far (user + system) by each part: the daphnes together, the
        Celery workers and beat, nginx, Redis (when private) and the database's backends."""
        parts: dict[str, float] = {}
        services = [*self.services, *([self.redis] if self.redis else [])]
        for service in services:
            part = service.name.split("-")[0]
            parts[part] = parts.get(part, 0.0) + _cpu(service.processes())
        try:
            backends = [psutil.Process(pid) for pid in database_backends(self.options.database_url)]
        except (psycopg.Error, psutil.NoSuchProcess):
            backends = []
        parts["postgres"] = _cpu(backends)
        return parts

    def pids(self) -> dict[str, list[tuple[int, float]]]:
        """Every process of the stack now, by part (a Celery worker's pool included), as
        (pid, start time): a pid alone may be another process's later."""
        services = [*self.services, *([self.redis] if self.redis else [])]
        return {
            service.name: [(p.pid, p.create_time()) for p in service.processes()]
            for service in services
        }

    def daphne_pids(self) -> list[int]:
        return [s.pid for s in self.services if s.name.startswith("daphne") and s.pid]

    # --- stopping -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything started, the front first; also after a failed start."""
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # keep stopping the others
                print(f"warning: stopping {service.name}: {exc!r}", file=sys.stderr)
        self.services.clear()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
