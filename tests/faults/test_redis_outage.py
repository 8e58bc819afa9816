"""Redis (cache, channel layer and broker) stopped under concurrent enrollments, then
started again: nothing committed is lost or stranded.

Every request is answered 201 or 503 (never 500), a retry with its Idempotency-Key gets
its enrollment (never 409 `already_enrolled`), every enrollment ends active with its seat
and statistics counted once, and every job owed runs exactly once: one welcome email per
student and one notice per enrollment reach the SMTP server."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog.models import Course
from enrollment.models import Enrollment
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
)

# A running server and worker over real sockets (the second Python's run leaves them out).
pytestmark = pytest.mark.live

REQUESTS = 24


@pytest.fixture
def stack(tmp_path):
    running = Stack(
        tmp_path,
        WS_HEARTBEAT_SECONDS="1",
        # A job that finished while Redis was down could not be acknowledged: it stays
        # unacknowledged until the visibility timeout brings it back (its done mark makes
        # the rerun a no-op). Short clocks, so that takes seconds, not the five minutes
        # the defaults give (longer than the wait below: a CI run timed out on it).
        CELERY_VISIBILITY_TIMEOUT_SECONDS="6",
        CELERY_UNACKED_RESTORE_INTERVAL_SECONDS="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
        JOB_LEASE_SECONDS="4",
    )
    try:
        yield running.start()
    finally:
        running.stop()


def member_body(course) -> dict:
    return {"course": course.slug, **({} if course.is_free else {"payment_method": "pm_card_visa"})}


# Servers in other processes read what this test writes: the commits must be real.
@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_delays_effects_and_loses_none(stack):
    instructor = make_instructor(email="teacher@example.com")
    free = make_course(title="Free Course", price="0.00", capacity=500, instructor=instructor)
    paid = make_course(title="Paid Course", price="30.00", capacity=500, instructor=instructor)
    specs = []
    for index in range(REQUESTS):
        course = free if index % 2 else paid
        body = {"course": course.slug, "student": {"email": f"s{index}@example.com", "name": "S"}}
        if course is paid:
            body["payment_method"] = "pm_card_visa"
        specs.append((f"key-{index}", body, None))
    # Two signed-in students with open sockets enroll in both courses, around the outage.
    students = [make_user(email=f"member{n}@example.com") for n in range(2)]
    tokens = [token_for(student) for student in students]
    members = [
        (f"member-{student.pk}-{course.pk}", member_body(course), token)
        for student, token in zip(students, tokens, strict=True)
        for course in (free, paid)
    ]
    specs[10:10] = members
    listeners = [Listener(stack.server, token) for token in tokens]
    total = len(specs)

    answers: dict[str, list[int]] = {key: [] for key, _, _ in specs}
    answered = threading.Semaphore(0)

    def send(spec: tuple[str, dict, str | None]) -> None:
        key, body, token = spec
        status, _ = post_enrollment(stack.server.url, body, key, token)
        answers[key].append(status)
        answered.release()

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(send, spec) for spec in specs]
        for _ in range(8):  # some enrollments before the outage
            assert answered.acquire(timeout=60)
        stack.redis.stop()
        for _ in range(8):  # and a good share of them while Redis is down
            assert answered.acquire(timeout=60)
        down = sum(len(statuses) for statuses in answers.values()) - 8
        stack.redis.start()
        for future in futures:
            future.result(timeout=120)

    during = [status for statuses in answers.values() for status in statuses]
    assert 500 not in during, during
    assert set(during) <= {201, 503}, during

    # Clients retry what was not answered 201, with the same key; every answer is kept.
    for key, body, token in specs:
        if answers[key][-1] != 201:
            retry_until_created(stack, answers[key], body, key, token, timeout=30)
    retried = [status for statuses in answers.values() for status in statuses[1:]]
    assert 409 not in retried, retried

    # What the outage postponed is carried out now (beat does this every few seconds).
    owed = Effect.objects.count()
    assert owed > 0  # the enrollments answered during the outage left their effects owed
    stack.manage("relay_effects", "--until-empty", "60", "--now")
    assert not Effect.objects.exists()

    enrollments = Enrollment.objects.all()
    assert enrollments.count() == total
    assert set(enrollments.values_list("status", flat=True)) == {"active"}
    for course in (free, paid):
        course = Course.objects.get(pk=course.pk)
        assert course.seats_taken == total // 2
        assert course.enrollment_count == total // 2

    wait_for_every_job(stack, total)
    expected = {(f"s{index}@example.com",): 1 for index in range(REQUESTS)}
    expected.update({(student.email,): 2 for student in students})  # one per course
    assert stack.inbox.count("Welcome to") == expected
    assert stack.inbox.count("New enrollment in") == {("teacher@example.com",): total}
    receipts = paid_buyers()
    assert receipts and stack.inbox.count("Your receipt") == receipts

    assert_events_resumable(students, listeners)
    record_figures(
        "redis stopped and restarted",
        requests=total,
        answered_while_redis_was_down=down,
        first_answers=Counter(during),
        retries=Counter(retried),
        effects_owed_after_the_outage=owed,
        enrollments_active=total,
        lost=0,
    )
