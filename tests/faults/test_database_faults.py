"""PostgreSQL backends terminated under concurrent enrollments and open sockets (a
failover, an operator's pg_terminate_backend): requests whose connection was cut answer
503, never 500; their retries with the same Idempotency-Key get their enrollment (never
409); guests who give up on a free course after a 503 leave nothing pending: the sweeper,
run by the real worker, activates what their request committed. A charge whose connection
was cut has an unknown outcome (the test gateway keeps its charges in the same database):
it is answered 201 pending, as documented, and reconcile_payments, run by the worker too,
charges it again under the same key. Afterwards every enrollment is active with its seat,
statistics and jobs counted exactly once, and each signed-in student's socket can resume
every event of theirs, in order."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalog.models import Course
from enrollment.models import Enrollment
from portal.jobs.base import PortalTask
from portal.outbox.models import Effect
from tests.factories import make_course, make_instructor, make_user, token_for
from tests.faults.stack import (
    Listener,
    Stack,
    assert_events_resumable,
    paid_buyers,
    post_enrollment,
    record_figures,
    retry_until_created,
    wait_for_every_job,
    wait_until,
)

# A running server and worker over real sockets (the second Python's run leaves them out).
pytestmark = pytest.mark.live

REQUESTS = 30


@pytest.fixture
def stack(tmp_path):
    # A request whose connection was cut before it could release its Idempotency-Key
    # claim leaves it locked this long; the clients below retry past it.
    running = Stack(
        tmp_path,
        IDEMPOTENCY_CLAIM_LOCK_SECONDS="5",
        # The sweep and the reconcile below are sent by hand, not by beat, and look at
        # everything pending (by default only at what is 60 s and 300 s old).
        PENDING_SWEEP_AFTER_SECONDS="0",
        RECONCILE_AFTER_SECONDS="0",
    )
    try:
        yield running.start()
    finally:
        running.stop()


def terminate_backends(*, spare: int) -> int:
    """Cut the connections of the server and the worker to the test database (not this
    test's own, `spare`, nor the cutting one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
            [spare],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_terminated_backends_strand_nothing(stack):
    instructor = make_instructor(email="teacher@example.com")
    free = make_course(title="Free Course", price="0.00", capacity=500, instructor=instructor)
    paid = make_course(title="Paid Course", price="30.00", capacity=500, instructor=instructor)
    specs = []
    for index in range(REQUESTS):
        course = free if index % 2 else paid
        body = {"course": course.slug, "student": {"email": f"d{index}@example.com", "name": "D"}}
        if course is paid:
            body["payment_method"] = "pm_card_visa"
        specs.append((f"db-{index}", body, None))
    # Two signed-in students, each with an open socket, enroll in both courses too.
    students = [make_user(email=f"member{n}@example.com") for n in range(2)]
    tokens = [token_for(student) for student in students]
    for student, token in zip(students, tokens, strict=True):
        for course in (free, paid):
            body = {"course": course.slug}
            if course is paid:
                body["payment_method"] = "pm_card_visa"
            specs.append((f"member-{student.pk}-{course.pk}", body, token))
    listeners = [Listener(stack.server, token) for token in tokens]
    total = len(specs)
    answers: dict[str, list[int]] = {key: [] for key, _, _ in specs}
    emails = {key: body["student"]["email"] for key, body, _ in specs if "student" in body}
    stop = threading.Event()
    cuts: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]

    def cutter() -> None:  # cut the connections three times while requests flow
        try:
            while not stop.is_set() and len(cuts) < 3:
                time.sleep(0.3)
                cuts.append(terminate_backends(spare=own))
        finally:
            connection.close()

    def send(spec: tuple[str, dict, str | None]) -> None:
        key, body, token = spec
        answers[key].append(post_enrollment(stack.server.url, body, key, token)[0])

    chaos = threading.Thread(target=cutter)
    with ThreadPoolExecutor(max_workers=4) as pool:
        chaos.start()
        for future in [pool.submit(send, spec) for spec in specs]:
            future.result(timeout=120)
    stop.set()
    chaos.join(timeout=30)
    assert sum(cuts) > 0  # the faults happened

    during = [status for statuses in answers.values() for status in statuses]
    assert set(during) <= {201, 503}, during

    # Signed-in students and paying guests retry with the same key; guests of the free
    # course give up after a 503, leaving what their request committed to the sweeper.
    given_up = {
        key for key, body, token in specs if answers[key][-1] != 201 and is_free_guest(body, token)
    }
    for key, body, token in specs:
        if answers[key][-1] != 201 and key not in given_up:
            retry_until_created(stack, answers[key], body, key, token, timeout=90)
    retried = [status for statuses in answers.values() for status in statuses[1:]]
    assert 409 not in retried and all(answers[key][-1] == 201 for key in answers.keys() - given_up)

    # What is left pending: free enrollments of guests who gave up (the sweeper's), and
    # paid ones whose charge's outcome the cut hid, answered 201 pending (reconcile's).
    still_pending = Enrollment.objects.filter(status="pending")
    pending = still_pending.count()
    unknown_outcome = still_pending.filter(payment__isnull=False)
    assert set(unknown_outcome.values_list("payment__status", flat=True)) <= {"pending"}
    charges_unknown = unknown_outcome.count()
    # The beat tasks, run by the real worker: nothing committed stays pending.
    stack.manage("shell", "-c", SWEEP)
    # A job whose connection was cut during the burst waits out its retry backoff (up to
    # retry_backoff_max) before it runs again: the bound covers that wait, plus the work.
    try:
        wait_until(
            lambda: (
                not Enrollment.objects.filter(status="pending").exists() and stack.queues_empty()
            ),
            timeout=60 + PortalTask.retry_backoff_max,
            what="the sweeper and reconcile to finish what the requests committed",
        )
    except AssertionError as exc:  # say what was left, for the next reader of a failure
        left = list(
            Enrollment.objects.filter(status="pending").values(
                "pk", "payment__status", "created_at", "student__email"
            )
        )
        raise AssertionError(f"{exc}; pending: {left}; queues: {stack.queue_state()}") from exc
    stack.manage("relay_effects", "--until-empty", "60", "--now")
    assert not Effect.objects.exists()
    enrollments = Enrollment.objects.all()
    assert set(enrollments.values_list("status", flat=True)) == {"active"}
    swept = enrollments.filter(student__email__in=[emails[key] for key in given_up]).count()
    assert enrollments.count() == total - len(given_up) + swept
    for course in (free, paid):
        active = enrollments.filter(course=course).count()
        course = Course.objects.get(pk=course.pk)
        assert (course.seats_taken, course.enrollment_count) == (active, active)

    wait_for_every_job(stack, enrollments.count())
    expected = Counter((email,) for email in enrollments.values_list("student__email", flat=True))
    assert stack.inbox.count("Welcome to") == expected
    assert stack.inbox.count("New enrollment in") == {("teacher@example.com",): len(enrollments)}
    receipts = paid_buyers()
    assert receipts and stack.inbox.count("Your receipt") == receipts

    assert_events_resumable(students, listeners)
    record_figures(
        "database backends terminated",
        requests=total,
        connections_cut=sum(cuts),
        first_answers=Counter(status for statuses in answers.values() for status in statuses[:1]),
        retries=Counter(retried),
        given_up_after_503=len(given_up),
        given_up_but_committed=swept,
        pending_before_the_sweep=pending,
        charge_outcome_unknown=charges_unknown,
        enrollments_active=enrollments.count(),
        lost=0,
    )


SWEEP = (
    "from enrollment.tasks import reconcile_payments, sweep_pending_enrollments; "
    "sweep_pending_enrollments.delay(); reconcile_payments.delay()"
)


def is_free_guest(body: dict, token: str | None) -> bool:
    return token is None and "payment_method" not in body
