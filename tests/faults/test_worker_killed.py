"""A Celery worker SIGKILLed in the middle of sending a welcome email: the job comes back
(late acknowledgement, the broker's visibility timeout), its lapsed lease lets the new
run do the work, and the email is delivered exactly once."""

import pytest

from enrollment.models import Enrollment
from portal.jobs.models import FailedJob, JobRun
from tests.factories import make_course
from tests.faults.stack import Stack, post_enrollment, wait_until


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
    course = make_course(title="Crash Course", price="0.00")  # no instructor: one email
    body = {"course": course.slug, "student": {"email": "k@example.com", "name": "K"}}
    status, answer = post_enrollment(stack.server.url, body, "kill-1")
    assert status == 201

    # The worker is inside the SMTP transaction of the welcome email: kill it there.
    assert stack.inbox.receiving.wait(timeout=60)
    stack.kill_worker()
    assert stack.inbox.count("Welcome to") == {}
    run = JobRun.objects.get(key=f"enrollment.welcome_email_sent_at:{answer['id']}")
    assert run.done_at is None and run.lease_until is not None  # leased, not done

    stack.start_worker()
    wait_until(
        lambda: (
            Enrollment.objects.filter(pk=answer["id"], welcome_email_sent_at__isnull=False).exists()
            and stack.queues_empty()
        ),
        timeout=90,
        what="the welcome email to be sent again",
    )
    assert stack.inbox.count("Welcome to") == {("k@example.com",): 1}
    assert not FailedJob.objects.exists()
    assert JobRun.objects.get(pk=run.pk).done_at is not None
