"""A Celery worker SIGKILLed in the middle of sending an email (the first enrollment's
welcome or its instructor's notice, whichever job the worker reaches first), while
enrollments keep coming and a signed-in student's socket is open: the job comes back (late
acknowledgement, the broker's visibility timeout), its lapsed lease lets the new run do
the work, and every email is delivered exactly once: one welcome per enrollment and one
notice to the instructor per enrollment."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from enrollment.models import Enrollment
from portal.jobs.models import FailedJob, JobRun
from tests.factories import make_course, make_instructor, make_user, token_for
from tests.faults.stack import (
    Listener,
    Stack,
    assert_events_resumable,
    paid_buyers,
    post_enrollment,
    record_figures,
    wait_for_every_job,
)

# A running server and worker over real sockets (the second Python's run leaves them out).
pytestmark = pytest.mark.live

GUESTS = 8


@pytest.fixture
def stack(tmp_path):
    # Short clocks, so the lost job comes back in seconds rather than minutes.
    running = Stack(
        tmp_path,
        CELERY_VISIBILITY_TIMEOUT_SECONDS="4",
        CELERY_UNACKED_RESTORE_INTERVAL_SECONDS="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
        JOB_LEASE_SECONDS="3",
    )
    running.inbox.hold_first = True
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_email_leaves_it_to_the_redelivery(stack):
    instructor = make_instructor(email="teacher@example.com")
    free = make_course(title="Crash Course", price="0.00", instructor=instructor)
    paid = make_course(title="Paid Crash Course", price="15.00", instructor=instructor)
    student = make_user(email="member@example.com")
    token = token_for(student)
    listener = Listener(stack.server, token)

    # The first email of the first enrollment hangs inside its SMTP transaction.
    first_status, first = post_enrollment(
        stack.server.url,
        {"course": free.slug, "student": {"email": "k@example.com", "name": "K"}},
        "kill-first",
    )
    assert first_status == 201
    assert stack.inbox.receiving.wait(timeout=60)

    # More enrollments arrive around the crash: guests and the signed-in student in both.
    specs = [
        (
            f"kill-{n}",
            {"course": free.slug, "student": {"email": f"g{n}@example.com", "name": "G"}},
            None,
        )
        for n in range(GUESTS)
    ]
    specs += [
        (f"member-{course.pk}", {"course": course.slug, "payment_method": "pm_card_visa"}, token)
        for course in (free, paid)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(post_enrollment, stack.server.url, body, key, auth)
            for key, body, auth in specs
        ]
        stack.kill_worker()  # SIGKILL while the first email is half sent
        answers = Counter(future.result(timeout=60)[0] for future in futures)
    assert answers == {201: len(specs)}
    assert stack.inbox.delivered == []  # the worker died inside the first
    # The job that was sending it: its work leased, not done.
    run = JobRun.objects.get(
        key__in=[
            f"enrollment.welcome_email_sent_at:{first['id']}",
            f"enrollment.instructors_notified_at:{first['id']}",
        ],
        done_at__isnull=True,
    )
    assert run.lease_until is not None

    stack.start_worker()
    total = 1 + len(specs)
    wait_for_every_job(stack, total)
    expected = Counter({("k@example.com",): 1, ("member@example.com",): 2})
    expected.update({(f"g{n}@example.com",): 1 for n in range(GUESTS)})
    assert stack.inbox.count("Welcome to") == expected
    assert stack.inbox.count("New enrollment in") == {("teacher@example.com",): total}
    receipts = paid_buyers()
    assert receipts and stack.inbox.count("Your receipt") == receipts
    assert not FailedJob.objects.exists()
    assert JobRun.objects.get(pk=run.pk).done_at is not None
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"active"}
    assert_events_resumable([student], [listener])
    record_figures(
        "celery worker killed mid-email",
        requests=total,
        answers=Counter({201: 1}) + answers,
        emails_delivered=len(stack.inbox.delivered),
        emails_expected=2 * total + 1,  # and the paid enrollment's receipt
        failed_jobs=0,
        lost=0,
    )
