import pytest
from django.test import Client

from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course

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

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("emails", "default", "notifications")
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        enroll(Client(), guest_body(make_course(), "queued@example.com", None))
        text = Client().get("/metrics").content.decode()
    finally:
        app.conf.task_always_eager = True
        broker.delete("emails", "default", "notifications")
    for queue in ("emails", "default", "notifications"):
        assert sample(text, f'portal_queue_depth{{queue="{queue}"}}') == 1
