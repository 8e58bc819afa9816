import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from portal.metrics import BUSINESS_CACHE_KEY, BUSINESS_REFRESH_KEY, BusinessFigures
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.django_db


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics_count_requests_errors_and_business_state():
    client = Client()
    course = make_course(price="49.00")
    enroll(client, guest_body(course, "m1@example.com"))
    enroll(client, guest_body(course, "m2@example.com", "pm_card_chargeDeclined"))
    client.get("/api/courses")
    client.get("/api/no-such-thing")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert sample(text, 'portal_enrollments{status="active"}') == 1
    assert sample(text, 'portal_enrollments{status="cancelled"}') == 1
    assert sample(text, 'portal_payments{status="succeeded"}') == 1
    assert sample(text, 'portal_payments{status="failed"}') == 1
    assert sample(text, 'portal_revenue{currency="usd"}') == 49.0
    assert 'portal_http_requests_total{method="GET",route="api/courses",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "portal_http_request_seconds_bucket" in text
    assert "portal_websocket_connections" in text


def test_queue_depth_is_read_from_the_broker(settings):
    import redis

    from portal.celery import app
    from portal.enqueue import job_send

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("emails", "default", "notifications")
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        for name in (  # one job routed to each queue
            "enrollment.tasks.send_welcome_email",
            "enrollment.tasks.process_course_access",
            "enrollment.tasks.notify_instructors",
        ):
            job_send(name, 1)
        text = Client().get("/metrics").content.decode()
    finally:
        app.conf.task_always_eager = True
        broker.delete("emails", "default", "notifications")
    for queue in ("emails", "default", "notifications"):
        assert sample(text, f'portal_queue_depth{{queue="{queue}"}}') == 1


# --- Protection, process metrics, what a scrape costs -----------------------------------


def test_metrics_answer_only_the_bearer_of_the_token_when_one_is_set(settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    client = Client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_http_requests_total" not in missing.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456788")
    assert wrong.status_code == 401
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-token-0123456789")
    assert basic.status_code == 401
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789")
    assert right.status_code == 200
    assert "portal_http_requests_total" in right.content.decode()


def test_metrics_are_open_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 200


def test_process_metrics_are_exported():
    text = Client().get("/metrics").content.decode()
    assert sample(text, "process_cpu_seconds_total") > 0
    assert sample(text, "process_resident_memory_bytes") > 10 * 1024 * 1024  # a Django process
    assert sample(text, "process_open_fds") >= 3
    assert sample(text, "process_max_fds") > 0
    assert sample(text, "process_start_time_seconds") > 0


def business_queries(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured
        if "enrollment_enrollment" in query["sql"] or "enrollment_payment" in query["sql"]
    ]


def test_business_gauges_are_aggregated_once_per_period_for_every_server(settings):
    """Within METRICS_BUSINESS_CACHE_SECONDS a scrape reads the figures from the shared
    cache: no query on the enrollment or payment tables, from this process or from another
    one (a fresh BusinessFigures is what another app server holds)."""
    settings.METRICS_BUSINESS_CACHE_SECONDS = 3600
    client = Client()
    course = make_course(price="49.00")
    enroll(client, guest_body(course, "c1@example.com"))
    with CaptureQueriesContext(connection) as first:
        text = client.get("/metrics").content.decode()
    assert sample(text, 'portal_enrollments{status="active"}') == 1
    assert len(business_queries(first.captured_queries)) == 2  # one aggregate per table

    enroll(client, guest_body(course, "c2@example.com"))
    with CaptureQueriesContext(connection) as later:
        text = client.get("/metrics").content.decode()
        other_server = BusinessFigures().get()
    assert business_queries(later.captured_queries) == []
    assert sample(text, 'portal_enrollments{status="active"}') == 1  # the kept figure
    assert other_server is not None
    assert other_server["enrollments"]["active"] == 1

    cache.delete(BUSINESS_CACHE_KEY)  # the period is over
    text = client.get("/metrics").content.decode()
    assert sample(text, 'portal_enrollments{status="active"}') == 2
    assert sample(text, 'portal_revenue{currency="usd"}') == 98.0


def test_a_stale_figure_is_served_while_another_server_refreshes_it(settings):
    settings.METRICS_BUSINESS_CACHE_SECONDS = 30
    make_course(price="10.00")
    stale = {"enrollments": {"active": 7}, "payments": {}, "revenue": {}, "fresh_until": 0.0}
    cache.set(BUSINESS_CACHE_KEY, stale, timeout=300)
    cache.set(BUSINESS_REFRESH_KEY, 1, timeout=300)  # another server is computing
    with CaptureQueriesContext(connection) as captured:
        assert BusinessFigures().get() == stale
    assert business_queries(captured.captured_queries) == []
    cache.delete(BUSINESS_REFRESH_KEY)  # nobody is: this one refreshes
    with CaptureQueriesContext(connection) as captured:
        fresh = BusinessFigures().get()
    assert fresh is not None
    assert fresh["enrollments"] == {}
    assert len(business_queries(captured.captured_queries)) == 2
    assert cache.get(BUSINESS_CACHE_KEY)["enrollments"] == {}


def test_aggregating_at_every_scrape_when_the_period_is_zero(settings):
    settings.METRICS_BUSINESS_CACHE_SECONDS = 0
    client = Client()
    course = make_course(price="5.00")
    enroll(client, guest_body(course, "z1@example.com"))
    assert (
        sample(client.get("/metrics").content.decode(), 'portal_payments{status="succeeded"}') == 1
    )
    enroll(client, guest_body(course, "z2@example.com"))
    assert (
        sample(client.get("/metrics").content.decode(), 'portal_payments{status="succeeded"}') == 2
    )


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: the cache is down
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    },
    METRICS_BUSINESS_CACHE_SECONDS=3600,
)
def test_without_the_cache_each_process_keeps_its_own_copy(monkeypatch):
    monkeypatch.setattr("portal.metrics.FIGURES", BusinessFigures())
    make_course()
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        first = client.get("/metrics")
        second = client.get("/metrics")
    assert first.status_code == second.status_code == 200
    assert len(business_queries(captured.captured_queries)) == 2  # the first scrape's only
    assert "portal_enrollments" in second.content.decode()


def test_a_scrape_while_the_database_is_down_still_answers():
    """The gauges read from the database are left out; the process's own metrics remain."""
    server = LiveServer(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/portal",
        DB_POOL_MAX_SIZE="0",
        METRICS_TOKEN="",
    )
    server.start()
    try:
        response = requests.get(server.url + "/metrics", timeout=30)
        assert response.status_code == 200
        assert "process_resident_memory_bytes" in response.text
        assert "portal_http_requests_total" in response.text
        assert "portal_enrollments{" not in response.text
    finally:
        server.stop()
