"""GET /metrics in Prometheus' text format.

Per process (scrape each app server directly, not through the load balancer): request
rate, latency and errors by route, open websocket connections, and the process's own CPU
seconds, resident memory and open file descriptors (prometheus_client's process collector,
read from /proc). Shared state: queue depth read from the broker at scrape time;
enrollments, payments and revenue aggregated in the database at most once every
METRICS_BUSINESS_CACHE_SECONDS for all app servers together (the result is kept in the
shared cache), so a scrape costs no table scan.

With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` is answered.
"""

import hmac
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from enrollment.models import Enrollment, Payment
from portal import redis_config

log = structlog.get_logger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "portal_http_requests_total",
    "HTTP requests.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "portal_http_request_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ERRORS = Counter(
    "portal_http_errors_total", "HTTP answers with a 5xx status.", ["route"], registry=REGISTRY
)
WEBSOCKETS = Gauge(
    "portal_websocket_connections",
    "Open websocket connections in this process.",
    registry=REGISTRY,
)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "unmatched"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if response.status_code >= 500:
            ERRORS.labels(route).inc()
        return response


BUSINESS_CACHE_KEY = "metrics:business:v1"
BUSINESS_REFRESH_KEY = "metrics:business:refresh"


def business_figures() -> dict[str, Any]:
    """One aggregate per table: enrollments by status (COUNT(*) reads only the status
    index), payments by status and currency with their sums (one pass over the table gives
    both the payment counts and the revenue)."""
    enrollments = {
        row["status"]: row["n"]
        for row in Enrollment.objects.order_by().values("status").annotate(n=Count("*"))
    }
    payments: dict[str, int] = {}
    revenue: dict[str, float] = {}
    rows = (
        Payment.objects.order_by()
        .values("status", "currency")
        .annotate(n=Count("*"), total=Sum("amount"))
    )
    for row in rows:
        payments[row["status"]] = payments.get(row["status"], 0) + row["n"]
        if row["status"] == "succeeded":
            revenue[row["currency"]] = revenue.get(row["currency"], 0.0) + float(row["total"] or 0)
    return {
        "enrollments": enrollments,
        "payments": payments,
        "revenue": revenue,
        "fresh_until": time.time() + settings.METRICS_BUSINESS_CACHE_SECONDS,
    }


class BusinessFigures:
    """The business gauges' values, computed at most once per METRICS_BUSINESS_CACHE_SECONDS
    across all app servers: kept in the shared cache (ten times longer than they are fresh,
    so a stale copy is served while one process refreshes it: the first to claim the
    refresh key computes, the others answer with what is there). Without the cache each
    process keeps its own copy for the same time. 0 computes at every scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local: dict[str, Any] | None = None

    def get(self) -> dict[str, Any] | None:
        ttl = settings.METRICS_BUSINESS_CACHE_SECONDS
        if ttl <= 0:
            return self._compute()
        try:
            shared = cache.get(BUSINESS_CACHE_KEY)
        except Exception as exc:  # the cache is down: this process's copy
            log.warning("metrics.cache_unavailable", error=type(exc).__name__)
            return self._local_copy()
        if shared is not None and shared["fresh_until"] > time.time():
            return shared
        try:
            claimed = cache.add(BUSINESS_REFRESH_KEY, 1, timeout=ttl)
        except Exception:
            claimed = True
        if shared is not None and not claimed:
            return shared  # another process is computing; this one is recent enough
        figures = self._compute()
        if figures is None:
            return shared
        try:
            cache.set(BUSINESS_CACHE_KEY, figures, timeout=ttl * 10)
        except Exception as exc:
            log.warning("metrics.cache_unavailable", error=type(exc).__name__)
        return figures

    def _local_copy(self) -> dict[str, Any] | None:
        with self._lock:
            if self._local is None or self._local["fresh_until"] <= time.time():
                self._local = self._compute() or self._local
            return self._local

    @staticmethod
    def _compute() -> dict[str, Any] | None:
        try:
            return business_figures()
        except DatabaseError as exc:  # the scrape still answers, without these gauges
            log.warning("metrics.database_unavailable", error=type(exc).__name__)
            return None


FIGURES = BusinessFigures()


class BusinessCollector:
    """Enrollments, payments, revenue (FIGURES) and queue depth, read when Prometheus
    scrapes."""

    def describe(self):
        return []  # nothing to read at registration (import time): no database yet

    def collect(self):
        figures = FIGURES.get()
        if figures is not None:
            enrollments = GaugeMetricFamily(
                "portal_enrollments", "Enrollments by status.", labels=["status"]
            )
            for status, count in sorted(figures["enrollments"].items()):
                enrollments.add_metric([status], count)
            payments = GaugeMetricFamily(
                "portal_payments", "Payments by status.", labels=["status"]
            )
            for status, count in sorted(figures["payments"].items()):
                payments.add_metric([status], count)
            revenue = GaugeMetricFamily(
                "portal_revenue", "Succeeded payments, by currency.", labels=["currency"]
            )
            for currency, total in sorted(figures["revenue"].items()):
                revenue.add_metric([currency], total)
            yield enrollments
            yield payments
            yield revenue
        depth = GaugeMetricFamily("portal_queue_depth", "Jobs waiting per queue.", labels=["queue"])
        for queue, length in _queue_depths().items():
            depth.add_metric([queue], length)
        yield depth


def _queue_depths() -> dict[str, int]:
    url = redis_config.broker_url()  # one server or the sentinels' master
    if settings.CELERY_TASK_ALWAYS_EAGER or url is None:
        return {}
    try:
        client = redis_config.shared_client(url, socket_timeout=1)
        return {queue: client.llen(queue) for queue in ("emails", "default", "notifications")}
    except redis.RedisError:
        return {}


REGISTRY.register(BusinessCollector())
# process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
# process_max_fds, process_start_time_seconds, … (Linux: /proc/self).
ProcessCollector(registry=REGISTRY)


def authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        response = JsonResponse(
            {
                "error": {
                    "code": "not_authenticated",
                    "message": "Metrics need Authorization: Bearer <METRICS_TOKEN>.",
                }
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
