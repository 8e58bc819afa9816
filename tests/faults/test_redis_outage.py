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
from tests.factories import make_course, make_instructor
from tests.faults.stack import Stack, post_enrollment, wait_until

REQUESTS = 24


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path, WS_HEARTBEAT_SECONDS="1")
    try:
        yield running.start()
    finally:
        running.stop()


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
        specs.append((f"key-{index}", body))

    answers: dict[str, list[int]] = {key: [] for key, _ in specs}
    answered = threading.Semaphore(0)

    def send(spec: tuple[str, dict]) -> None:
        key, body = spec
        status, _ = post_enrollment(stack.server.url, body, key)
        answers[key].append(status)
        answered.release()

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(send, spec) for spec in specs]
        for _ in range(8):  # some enrollments before the outage
            assert answered.acquire(timeout=60)
        stack.redis.stop()
        for _ in range(8):  # and a good share of them while Redis is down
            assert answered.acquire(timeout=60)
        stack.redis.start()
        for future in futures:
            future.result(timeout=120)

    during = [status for statuses in answers.values() for status in statuses]
    print(f"first answers: {Counter(during)}")  # the figures in the note (-s)
    assert 500 not in during, during
    assert set(during) <= {201, 503}, during

    # Clients retry what was not answered 201, with the same key.
    for key, body in specs:
        if answers[key][-1] != 201:
            status = wait_until(
                lambda key=key, body=body: post_enrollment(stack.server.url, body, key)[0] == 201,
                timeout=30,
                what=f"a 201 for {key}",
            )
            answers[key].append(201 if status else 0)
    assert all(statuses[-1] == 201 for statuses in answers.values())
    assert 409 not in [status for statuses in answers.values() for status in statuses]

    # What the outage postponed is carried out now (beat does this every few seconds).
    owed = Effect.objects.count()
    print(f"effects owed after the outage: {owed}")
    assert owed > 0  # the enrollments answered during the outage left their effects owed
    stack.manage("relay_effects", "--until-empty", "60", "--now")
    assert not Effect.objects.exists()

    enrollments = Enrollment.objects.all()
    assert enrollments.count() == REQUESTS
    assert set(enrollments.values_list("status", flat=True)) == {"active"}
    for course in (free, paid):
        course = Course.objects.get(pk=course.pk)
        assert course.seats_taken == REQUESTS // 2
        assert course.enrollment_count == REQUESTS // 2

    wait_until(
        lambda: (
            Enrollment.objects.filter(
                welcome_email_sent_at__isnull=False,
                access_granted_at__isnull=False,
                instructors_notified_at__isnull=False,
            ).count()
            == REQUESTS
            and stack.queues_empty()
        ),
        timeout=120,
        what="every job to run",
    )
    welcome = stack.inbox.count("Welcome to")
    assert welcome == {(f"s{index}@example.com",): 1 for index in range(REQUESTS)}
    notices = stack.inbox.count("New enrollment in")
    assert notices == {("teacher@example.com",): REQUESTS}
