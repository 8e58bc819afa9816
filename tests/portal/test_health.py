import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok", "search": "ok"}


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1: the cache is down.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
)
def test_readyz_is_503_naming_what_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["cache"] == "unavailable"
    assert body["database"] == "ok"
    assert body["error"]["code"] == "unavailable"
    assert "cache" in body["error"]["message"]


def test_readyz_reports_a_broker_that_does_not_answer(client, settings):
    from portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
