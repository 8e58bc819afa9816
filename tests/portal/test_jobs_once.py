"""Work done once in effect: marked done only after it succeeded; a live lease of another
run makes a delivery wait (retry), a lapsed one is taken over."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.db import IntegrityError
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


@shared_task(base=PortalTask, name="tests.portal.test_jobs_once.breaks_a_constraint")
def breaks_a_constraint() -> None:
    attempts.append(1)
    raise IntegrityError("duplicate key value violates unique constraint")


def test_an_integrity_error_is_not_retried_and_goes_straight_to_failed_jobs():
    attempts.clear()
    result = breaks_a_constraint.apply()
    assert result.failed()
    assert attempts == [1]  # one run: a retry would break the constraint again
    assert FailedJob.objects.get().task_name == "tests.portal.test_jobs_once.breaks_a_constraint"
