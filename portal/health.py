"""GET /healthz (the process is up) and GET /readyz (its dependencies answer)."""

from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from catalog.search import health

log = structlog.get_logger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    cache.set("readyz:probe", "ok", timeout=5)
    if cache.get("readyz:probe") != "ok":
        raise RuntimeError("cache did not return what was written")


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # tasks run in-process: there is no broker to lose
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
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


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            log.warning("readyz.check_failed", dependency=name, error=type(exc).__name__)
            results[name] = "unavailable"
    healthy = all(value == "ok" for value in results.values())
    if healthy:
        return JsonResponse(results)
    down = [name for name, value in results.items() if value != "ok"]
    body = {
        **results,
        "error": {"code": "unavailable", "message": "Not ready: " + ", ".join(down) + " down."},
    }
    return JsonResponse(body, status=503)
