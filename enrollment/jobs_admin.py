"""Retrying failed background jobs (the admin's "Retry" action)."""

from django.utils import timezone

from enrollment.models import FailedJob
from portal.celery import app


def failed_jobs_retry(*, jobs: list[FailedJob]) -> int:
    """Queue each job again with its original arguments, on its original queue."""
    for job in jobs:
        options = {"queue": job.queue} if job.queue else {}
        app.send_task(job.task_name, args=job.args, kwargs=job.kwargs, **options)
        job.retried_at = timezone.now()
        job.save(update_fields=["retried_at"])
    return len(jobs)
