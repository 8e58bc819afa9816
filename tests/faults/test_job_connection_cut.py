"""A job whose database connection is cut mid-work (a failover, pg_terminate_backend)
gives its lease back on a new connection: its retry, seconds later, does the work instead
of meeting JobBusy until the lease lapses (JOB_LEASE_SECONDS, longer than every retry's
backoff together, so the work would end as a FailedJob, never done)."""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection

from portal.jobs.models import JobRun
from portal.jobs.once import job_run_once
from tests.live import test_database_url


def cut_own_connection() -> None:
    """Terminate this thread's backend from another connection, as an operator would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(test_database_url(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)  # autocommit, as a worker runs its jobs
def test_a_job_cut_off_mid_work_gives_its_lease_back_for_the_retry():
    def work() -> str:
        cut_own_connection()
        JobRun.objects.count()  # the work's next query, on the cut connection
        return "sent"

    with pytest.raises((OperationalError, InterfaceError)):
        job_run_once("k", work)
    connection.close()  # as the worker does between runs (Celery's Django fixup)
    run = JobRun.objects.get(key="k")
    assert run.done_at is None and run.lease_until is None
    assert job_run_once("k", lambda: "sent") == "sent"
    assert JobRun.objects.get(key="k").attempts == 2
