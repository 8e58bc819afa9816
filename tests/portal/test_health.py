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
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


def test_readyz_checks_a_real_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert client.get("/readyz").json()["broker"] == "ok"
