"""GET /metrics in Prometheus' text format.

Per process (scrape each app server directly, not through the load balancer): request
rate, latency and errors by route, open websocket connections. Shared state is read at
scrape time: queue depth from the broker, enrollments, payments and revenue from the
database.
"""

import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from enrollment.models import Enrollment, Payment

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


class BusinessCollector:
    """Enrollments, payments, revenue and queue depth, read when Prometheus scrapes."""

    def describe(self):
        return []  # nothing to read at registration (import time): no database yet

    def collect(self):
        enrollments = GaugeMetricFamily(
            "portal_enrollments", "Enrollments by status.", labels=["status"]
        )
        for row in Enrollment.objects.values("status").annotate(n=Count("id")):
            enrollments.add_metric([row["status"]], row["n"])
        yield enrollments
        payments = GaugeMetricFamily("portal_payments", "Payments by status.", labels=["status"])
        revenue = GaugeMetricFamily(
            "portal_revenue", "Succeeded payments, by currency.", labels=["currency"]
        )
        for row in Payment.objects.values("status").annotate(n=Count("id")):
            payments.add_metric([row["status"]], row["n"])
        for row in (
            Payment.objects.filter(status="succeeded").values("currency").annotate(t=Sum("amount"))
        ):
            revenue.add_metric([row["currency"]], float(row["t"] or 0))
        yield payments
        yield revenue
        depth = GaugeMetricFamily("portal_queue_depth", "Jobs waiting per queue.", labels=["queue"])
        for queue, length in _queue_depths().items():
            depth.add_metric([queue], length)
        yield depth


def _queue_depths() -> dict[str, int]:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith("redis"):
        return {}
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1)
        return {queue: client.llen(queue) for queue in ("emails", "default", "notifications")}
    except redis.RedisError:
        return {}


REGISTRY.register(BusinessCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
