"""Work done once in effect: marked done only after it succeeded; a live lease of another
run makes a delivery wait (retry), a lapsed one is taken over."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.db import DataError, IntegrityError, OperationalError, ProgrammingError
from django.utils import timezone

from portal.jobs.base import PortalTask
from portal.jobs.models import FailedJob, JobRun
from portal.jobs.once import JobBusy, job_run_once, job_runs_prune

pytestmark = pytest.mark.django_db


def test_work_is_done_once_and_then_skipped():
    calls: list[int] = []
    assert job_run_once("k", lambda: calls.append(1) or "done") == "done"
    assert job_run_once("k", lambda: calls.append(2) or "done") == "skipped"
    assert calls == [1]
    run = JobRun.objects.get(key="k")
    assert run.done_at is not None and run.lease_until is None and run.attempts == 1


def test_a_live_lease_of_another_run_makes_this_one_wait():
    JobRun.objects.create(key="k", lease_until=timezone.now() + timedelta(minutes=1))
    with pytest.raises(JobBusy):
        job_run_once("k", lambda: "done")


def test_a_run_killed_mid_way_is_done_again_once_its_lease_lapses():
    # What a worker killed while sending leaves behind: a lease, no done mark.
    JobRun.objects.create(key="k", lease_until=timezone.now() - timedelta(seconds=1), attempts=1)
    assert job_run_once("k", lambda: "sent") == "sent"
    assert JobRun.objects.get(key="k").attempts == 2


def test_failed_work_gives_its_lease_back_for_the_retry():
    def boom() -> str:
        raise ConnectionError("smtp down")

    with pytest.raises(ConnectionError):
        job_run_once("k", boom)
    run = JobRun.objects.get(key="k")
    assert run.done_at is None and run.lease_until is None
    assert job_run_once("k", lambda: "sent") == "sent"


def test_done_runs_are_pruned_after_a_week():
    JobRun.objects.create(key="old", done_at=timezone.now() - timedelta(days=8))
    JobRun.objects.create(key="recent", done_at=timezone.now() - timedelta(days=1))
    JobRun.objects.create(key="open", lease_until=timezone.now() - timedelta(days=9))
    assert job_runs_prune() == 1
    assert sorted(JobRun.objects.values_list("key", flat=True)) == ["open", "recent"]


attempts: list[int] = []
raised: list[Exception] = []


@shared_task(base=PortalTask, name="tests.portal.test_jobs_once.fails_with")
def fails_with() -> None:
    attempts.append(1)
    raise raised[0]


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("duplicate key value violates unique constraint"),
        ProgrammingError('relation "enrollment_enrollment" does not exist'),
        DataError("value too long for type character varying(255)"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_database_error_a_retry_would_repeat_goes_straight_to_failed_jobs(error):
    attempts.clear()
    raised[:] = [error]
    result = fails_with.apply()
    assert result.failed()
    assert attempts == [1]  # one run: a retry would fail the same way
    assert FailedJob.objects.get().task_name == "tests.portal.test_jobs_once.fails_with"


def test_a_cut_database_connection_is_retried():
    attempts.clear()
    raised[:] = [OperationalError("server closed the connection unexpectedly")]
    result = fails_with.apply()
    assert result.failed()  # in the end: apply() runs the retries in place
    assert len(attempts) == 1 + PortalTask.max_retries


def test_a_lost_workers_jobs_come_back_in_minutes_and_never_while_running(settings):
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    # How long a job of a dead worker waits: the timeout, then the next restore sweep.
    back_after = (
        transport["visibility_timeout"]
        + transport["unacked_restore_interval"] * transport["unacked_restore_throttle"]
    )
    assert back_after <= 10 * 60  # minutes, not Celery's default hour
    # Never redelivered while a live worker still runs it or waits out a retry countdown,
    # and a lapsed claim lets the redelivery do the work.
    visibility = transport["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < settings.JOB_LEASE_SECONDS < visibility
    assert PortalTask.retry_backoff_max < visibility
