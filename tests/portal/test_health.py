import pytest
import requests
from django.db import connection
from django.test import override_settings

from portal import health
from tests.faults.stack import wait_until
from tests.live import LiveServer, free_port, test_database_url
from tests.portal.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db

DEPENDENCIES = ("database", "cache", "broker", "search")

CACHE_DOWN = override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1: the cache is down.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
)


@pytest.fixture(autouse=True)
def fresh_schema_check(monkeypatch):
    """Each test starts as a process that has not yet checked its migrations."""
    monkeypatch.setattr(health, "SCHEMA", health.Schema())


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "search": "ok",
        "migrations": "ok",
        "status": "ready",
    }
    strict = client.get("/readyz/dependencies")
    assert strict.status_code == 200
    assert strict.json() == dict.fromkeys(DEPENDENCIES, "ok")


@CACHE_DOWN
def test_a_shared_dependency_down_leaves_the_server_ready_and_says_so(client):
    """Every app server shares the cache: were it to fail readiness, all of them would
    leave the load balancer together. The server stays in, degraded; the strict view
    names what is down."""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["cache"] == "unavailable"
    assert body["database"] == "ok"
    assert body["status"] == "degraded"
    strict = client.get("/readyz/dependencies")
    assert strict.status_code == 503
    assert strict.json()["cache"] == "unavailable"
    assert strict.json()["error"]["code"] == "unavailable"
    assert "cache" in strict.json()["error"]["message"]


def test_a_broker_that_does_not_answer_is_reported(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["broker"] == "unavailable"
    assert response.json()["status"] == "degraded"
    strict = client.get("/readyz/dependencies")
    assert strict.status_code == 503
    assert strict.json()["broker"] == "unavailable"


def test_readyz_checks_a_real_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert client.get("/readyz").json()["broker"] == "ok"
    assert client.get("/readyz/dependencies").json()["broker"] == "ok"


def test_a_server_on_an_older_schema_is_not_ready(client):
    """A new release's servers wait for its migrations before taking traffic."""
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["migrations"] == "pending"
    assert body["status"] == "not_ready"
    assert body["database"] == "ok"
    assert body["error"]["code"] == "unavailable"
    assert "migrations" in body["error"]["message"]


def test_the_schema_is_checked_until_it_is_current_then_no_more(client):
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM django_migrations")
        last = cursor.fetchone()[0]
        cursor.execute("SELECT app, name, applied FROM django_migrations WHERE id = %s", [last])
        row = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE id = %s", [last])
    assert client.get("/readyz").status_code == 503
    with connection.cursor() as cursor:  # `migrate` has run meanwhile
        cursor.execute(
            "INSERT INTO django_migrations (id, app, name, applied) VALUES (%s, %s, %s, %s)",
            [last, *row],
        )
    assert client.get("/readyz").json()["status"] == "ready"
    assert health.SCHEMA.applied is True


def test_a_server_that_never_reached_its_database_is_not_ready():
    """The database down from the start: the process is alive (/healthz) but cannot know
    its schema, so it takes no traffic; nothing answers 500. Its connection pool waits
    10 s for a connection that never comes: the probe is not waited for that long
    (READYZ_PROBE_SECONDS), and says so in the log."""
    server = LiveServer(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/portal",
        READYZ_PROBE_SECONDS="1",
    )
    server.start()
    try:
        assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
        response = requests.get(server.url + "/readyz", timeout=30)
        assert response.status_code == 503
        body = response.json()
        assert body["database"] == "unavailable"
        assert body["migrations"] == "unknown"
        assert body["status"] == "not_ready"
        assert "database" in body["error"]["message"]
        log = server.log_path.read_text(errors="replace")
        assert "readyz.check_timed_out" in log
        assert "dependency=database" in log
    finally:
        server.stop()


def test_a_database_blip_after_start_keeps_the_server_in_rotation():
    """A real server reaches PostgreSQL through a proxy that is cut and restored: while it
    is cut the server stays ready (degraded), the strict view answers 503 naming the
    database, and once the database is back everything reads ok again."""
    settings_dict = connection.settings_dict
    proxy = TcpProxy((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    proxy.start()
    direct = test_database_url()
    through_proxy = direct.replace(f":{settings_dict['PORT'] or 5432}/", f":{proxy.port}/")
    assert through_proxy != direct
    server = LiveServer(DATABASE_URL=through_proxy, DB_POOL_MAX_SIZE="0")
    server.start()
    try:
        ready = requests.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"

        proxy.cut()
        during = requests.get(server.url + "/readyz", timeout=30)
        assert during.status_code == 200
        assert during.json()["database"] == "unavailable"
        assert during.json()["status"] == "degraded"
        strict = requests.get(server.url + "/readyz/dependencies", timeout=30)
        assert strict.status_code == 503
        assert "database" in strict.json()["error"]["message"]
        # A request that needs the database answers the portal's own 503, not a 500.
        courses = requests.get(server.url + "/api/courses", timeout=30)
        assert courses.status_code == 503
        assert courses.json()["error"]["code"] == "unavailable"

        proxy.start()
        wait_until(
            lambda: (
                requests.get(server.url + "/readyz/dependencies", timeout=10).status_code == 200
            ),
            timeout=60,
            what="the database back through the proxy",
        )
        assert requests.get(server.url + "/readyz", timeout=10).json()["status"] == "ready"
    finally:
        server.stop()
        proxy.cut()
