import os
import threading

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import make_instructor, make_user, token_for
from tests.schema_check import SchemaViolation, check_response

TEST_SETTINGS = "portal.settings_test"


def pytest_configure(config):
    # pyproject.toml selects the test settings, but an exported DJANGO_SETTINGS_MODULE wins
    # over it; the base settings would hash slowly and rate-limit the suite.
    chosen = os.environ.get("DJANGO_SETTINGS_MODULE")
    if chosen != TEST_SETTINGS:
        raise pytest.UsageError(
            f"the suite runs on {TEST_SETTINGS}, not {chosen}: "
            f"unset DJANGO_SETTINGS_MODULE or export DJANGO_SETTINGS_MODULE={TEST_SETTINGS}"
        )


@pytest.fixture(autouse=True)
def _clean_cache():
    # Tests use a Redis database index of their own, so flushing it is safe.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _api_answers_match_the_schema(monkeypatch):
    """Every answer a test client gets under /api/ must match /api/schema/ (see
    tests/schema_check.py). A mismatch fails the test that produced it: at once in the
    test's own thread, at teardown when a client ran in another thread."""
    elsewhere: list[str] = []
    request = Client.request  # APIClient.request ends here too

    def checked_request(self, **kwargs):
        response = request(self, **kwargs)
        try:
            check_response(response)
        except SchemaViolation as violation:
            if threading.current_thread() is threading.main_thread():
                raise
            elsewhere.append(str(violation))
        return response

    monkeypatch.setattr(Client, "request", checked_request)
    yield
    if elsewhere:
        pytest.fail("\n".join(elsewhere), pytrace=False)


@pytest.fixture
def rate_limits(settings) -> dict[str, tuple[int, int]]:
    """Opt in to rate limiting (off in the test settings): the limits the portal enforces.
    A test may tighten them further through `settings.RATE_LIMITS`."""
    settings.RATE_LIMITS = dict(settings.RATE_LIMITS_ENFORCED)
    return settings.RATE_LIMITS


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


@pytest.fixture
def student(db):
    return make_user(name="Sam Student")


@pytest.fixture
def instructor(db):
    return make_instructor(name="Ivy Instructor")


@pytest.fixture
def staff(db):
    return make_user(name="Stella Staff", is_staff=True)


@pytest.fixture
def student_api(student) -> APIClient:
    return client_for(student)


@pytest.fixture
def instructor_api(instructor) -> APIClient:
    return client_for(instructor)


@pytest.fixture
def staff_api(staff) -> APIClient:
    return client_for(staff)


@pytest.fixture(scope="session", autouse=True)
def _end_stray_connections(django_db_setup, django_db_blocker):
    """Async code reaches the ORM from pool threads whose connections outlive the tests;
    end them before pytest-django drops the test database."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
