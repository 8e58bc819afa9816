"""The enrollment benchmark's raw-SQL floor writes what a guest checkout writes: the same
tables, the same number of outbox rows, the rows an enrollment leaves behind. Otherwise
its ratio would compare the endpoint with less (or more) work than it does."""

import re
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog.models import Course
from enrollment.models import Enrollment, Payment, Receipt
from loadtests import enroll_bench
from portal.celery import app
from portal.events.models import UserEvent
from portal.outbox.models import Effect
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db(transaction=True)
QUEUES = ("emails", "default", "notifications")

# Every table a statement writes (a CTE may write several), quoted by the ORM or not; not
# `DO UPDATE SET` (an upsert's) nor `FOR UPDATE SKIP LOCKED` (a lock).
WRITE = re.compile(r'(?:INSERT INTO|(?<!DO )(?<!FOR )UPDATE|DELETE FROM)\s+"?(\w+)"?')
# Not the portal's own work: the test gateway records its intents in a table, standing in
# for the provider's servers; the floor writes them too, so both sides pay for it.
FLOOR_STATEMENTS = (
    enroll_bench.FLOOR_CLAIM,
    enroll_bench.FLOOR_RESERVE,
    enroll_bench.FLOOR_CHARGE,
    enroll_bench.FLOOR_ACTIVATE,
    enroll_bench.FLOOR_EFFECTS,
    enroll_bench.FLOOR_ANSWER,
)


@pytest.fixture
def web_tier():
    """Jobs queued to the real broker, not run here: the benchmark's web tier."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(*QUEUES)  # only the queues: kombu's binding keys outlive the test
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    client.delete(*QUEUES)


def _endpoint_writes() -> tuple[set[str], int]:
    instructor = make_user(is_instructor=True)
    course = make_course(price="49.00", instructor=instructor)
    with CaptureQueriesContext(connection) as queries:
        answer = APIClient().post(
            "/api/enrollments",
            {
                "course": course.slug,
                "student": {"email": f"g-{uuid.uuid4().hex}@example.test", "name": "Guest"},
                "payment_method": "pm_card_visa",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
    assert answer.status_code == 201 and answer.json()["status"] == "active"
    tables = {name for q in queries.captured_queries for name in WRITE.findall(q["sql"])}
    effects = sum(q["sql"].startswith("INSERT INTO outbox_effect") for q in queries)
    return tables, effects


def test_the_floor_writes_the_tables_and_outbox_rows_a_guest_checkout_writes(web_tier):
    endpoint_tables, endpoint_effects = _endpoint_writes()
    floor_tables = {name for sql in FLOOR_STATEMENTS for name in WRITE.findall(sql)}
    assert floor_tables == endpoint_tables
    assert endpoint_effects == enroll_bench.RESERVE_EFFECTS + enroll_bench.ACTIVATE_EFFECTS


def test_the_floor_leaves_an_active_paid_enrollment_behind():
    instructor = make_user(is_instructor=True)
    course = make_course(price="49.00", instructor=instructor)
    settings = connection.settings_dict
    dsn = f"dbname={settings['NAME']} host={settings['HOST']} port={settings['PORT']} user={settings['USER']}"
    work = enroll_bench.raw_sql_enroll(course.pk, instructor.pk, dsn)
    state: dict = {}
    assert work(0, state) and work(1, state)
    state["conn"].close()

    enrollments = Enrollment.objects.filter(course=course)
    assert [e.status for e in enrollments] == ["active", "active"]
    assert Payment.objects.filter(enrollment__in=enrollments, status="succeeded").count() == 2
    assert Receipt.objects.filter(enrollment__in=enrollments).count() == 2
    assert UserEvent.objects.filter(user=instructor).count() == 2
    course = Course.objects.get(pk=course.pk)
    assert (course.seats_taken, course.enrollment_count) == (2, 2)
    assert not Effect.objects.filter(handler="bench").exists()  # carried out and deleted
