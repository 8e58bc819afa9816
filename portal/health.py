"""The probes: GET /healthz (the process is up), GET /readyz (this process can serve) and
GET /readyz/dependencies (every shared dependency answers).

Readiness is about this process, not about the servers every app process shares. A
load balancer takes a server out of rotation when /readyz fails; if a blip of PostgreSQL,
Redis or the broker failed /readyz everywhere at once, every server would leave the pool
together and clients would get the balancer's bare 502 instead of the portal's own 503
`unavailable` (or a fallback: search answers from the database, rate limits fail open or
closed by scope, jobs wait in the outbox). So /readyz answers 503 only while this process
cannot know it runs on the current schema: its settings loaded (it answers at all) and
every migration applied, checked against the database until that has once succeeded.
After that it answers 200 and reports each dependency beside it, with `"status":
"degraded"` when one is down. /readyz/dependencies is the strict view for monitoring:
200 when everything answers, 503 naming what does not.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from catalog.search import health

log = structlog.get_logger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    cache.set("readyz:probe", "ok", timeout=5)
    if cache.get("readyz:probe") != "ok":
        raise RuntimeError("cache did not return what was written")


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # tasks run in-process: there is no broker to lose
    # The transport options carry the sentinels' master name when there are sentinels.
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=2,
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_search() -> None:
    if not health():
        raise RuntimeError("search backend unhealthy")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "search": check_search,
}


class Schema:
    """Whether every migration this code knows is applied. Once it is, it stays so for
    this process's life (the code cannot change under it), so only the first successful
    check costs a look at django_migrations; a database down before then reads as
    unknown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.applied = False

    def state(self) -> str:
        """One of "ok", "pending" (migrations to apply) or "unknown" (no answer)."""
        if self.applied:
            return OK
        with self._lock:
            if self.applied:
                return OK
            try:
                executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
                plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            except Exception as exc:
                log.warning("readyz.schema_unknown", error=type(exc).__name__)
                return "unknown"
            if plan:
                return "pending"
            self.applied = True
            return OK


SCHEMA = Schema()


# The probes run side by side, each in a thread of this pool, and a probe is waited for
# READYZ_PROBE_SECONDS at most: a dependency that hangs (a database connection pool
# waiting for a free connection, a half-open socket) must not hold the answer past the load
# balancer's probe timeout. A probe still running then is reported unavailable and left
# to finish in its thread; with every thread busy, the next probes queue and are reported
# unavailable too.
PROBES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


def _probe(name: str, check: Callable[[], None]) -> bool:
    try:
        check()
        return True
    except Exception as exc:
        log.warning("readyz.check_failed", dependency=name, error=type(exc).__name__)
        return False
    finally:
        connections.close_all()  # this thread's connections (back to the pool, if any)


def probe_dependencies() -> dict[str, str]:
    futures = {name: PROBES.submit(_probe, name, check) for name, check in CHECKS.items()}
    done, _ = wait(futures.values(), timeout=settings.READYZ_PROBE_SECONDS)
    results: dict[str, str] = {}
    for name, future in futures.items():
        if future not in done:
            log.warning("readyz.check_timed_out", dependency=name)
        results[name] = OK if future in done and future.result() else UNAVAILABLE
    return results


def unavailable(body: dict[str, str], reason: str) -> JsonResponse:
    return JsonResponse(
        {**body, "error": {"code": "unavailable", "message": reason}},
        status=503,
    )


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    dependencies = probe_dependencies()
    # Only a database that just answered is asked about the schema (in this thread: no
    # deadline, but only until the schema has once been found current).
    schema = SCHEMA.state() if dependencies["database"] == OK or SCHEMA.applied else "unknown"
    down = [name for name, value in dependencies.items() if value != OK]
    if schema != OK:
        body = {**dependencies, "migrations": schema, "status": "not_ready"}
        reason = (
            "Not ready: migrations pending."
            if schema == "pending"
            else "Not ready: the schema could not be checked"
            + (" (" + ", ".join(down) + " down)." if down else ".")
        )
        return unavailable(body, reason)
    status = "degraded" if down else "ready"
    return JsonResponse({**dependencies, "migrations": OK, "status": status})


def dependencies(request: HttpRequest) -> JsonResponse:
    results = probe_dependencies()
    down = [name for name, value in results.items() if value != OK]
    if down:
        return unavailable(results, "Dependencies down: " + ", ".join(down) + ".")
    return JsonResponse(results)
