import os
import threading
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError
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


def pytest_collection_modifyitems(items):
    # schemathesis names each API operation's item `test_...[GET /api/...]`, but pytest 9.2
    # builds a node id from the function's name and a parametrize callspec only, so all of
    # them share one; pytest-xdist schedules by node id and would run a single operation.
    # Each gets the id its name says.
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and item.nodeid == f"{item.parent.nodeid}::{item.originalname}":
            item._id = item.parent.id.child(item.originalname).with_params(label)
    # Any test sharing a node id with another would run once under xdist: refuse to start.
    seen: set[str] = set()
    shared = sorted({item.nodeid for item in items if item.nodeid in seen or seen.add(item.nodeid)})
    if shared:
        raise pytest.UsageError(f"tests share node ids (xdist would run one of each): {shared[:5]}")


# Migrations' reference rows: identical after every flush, so they are kept, not re-made.
_KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})


@pytest.fixture(scope="session", autouse=True)
def _flush_only_what_was_written(django_db_setup):
    """A transactional test ends with Django's flush: TRUNCATE of every table, then the
    content types and permissions made again (~0.35 s, ~90 times a run). On PostgreSQL,
    empty only the tables that hold rows (one query finds them) and keep the reference
    rows; every row a test wrote is still gone."""
    from django.core.management.commands import flush
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    # Patched on the class, not on this connection: Django keeps a connection per context,
    # and the browser tests' flushes run in Playwright's (a greenlet of its own), where an
    # unpatched connection would TRUNCATE the content types and nothing would make them again.
    operations = type(connection.ops)
    original_sql_flush = operations.sql_flush  # restored at the end of the session
    original_emit = flush.emit_post_migrate_signal

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        candidates = [table for table in tables if table not in _KEPT_TABLES]
        if not candidates:
            return []
        quote = self.quote_name
        probe = " UNION ALL ".join(
            f"(SELECT %s FROM {quote(table)} LIMIT 1)"  # noqa: S608 - table names from Django
            for table in candidates
        )
        with self.connection.cursor() as cursor:
            cursor.execute(probe, candidates)
            written = [row[0] for row in cursor.fetchall()]
        # DELETE, not TRUNCATE: a few rows go faster than a new file per table. Django's
        # foreign keys are deferred on PostgreSQL, so the order does not matter; a table
        # still referencing a row holds rows itself and is emptied in the same transaction.
        return [f"DELETE FROM {quote(table)}" for table in written]  # noqa: S608 - model tables

    original_execute = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        # A browser test's server may still be finishing what the test's last request set
        # off (its jobs, a socket's last write) when the flush deletes: PostgreSQL may then
        # pick the flush as a deadlock's victim. Its transaction rolled back whole, so it
        # is run again; a flush given up would leave rows for the next test.
        for attempt in range(6):
            try:
                return original_execute(self, sql_list)
            except OperationalError as exc:
                if "deadlock" not in str(exc) or attempt == 5:
                    raise
                time.sleep(0.1 * (attempt + 1))

    operations.sql_flush = sql_flush
    operations.execute_sql_flush = execute_sql_flush
    flush.emit_post_migrate_signal = lambda *args, **kwargs: None
    yield
    operations.sql_flush = original_sql_flush
    operations.execute_sql_flush = original_execute
    flush.emit_post_migrate_signal = original_emit


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
