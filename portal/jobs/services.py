"""Retrying failed background jobs (the admin's "Retry" action)."""

from typing import Any

from django.utils import timezone

from portal.celery import app
from portal.jobs.models import FailedJob


def failed_jobs_retry(*, jobs: list[FailedJob]) -> int:
    """Queue each job again with its original arguments, on its original queue."""
    # A web process has not necessarily imported the task modules yet; autodiscover them
    # so the registry below knows every task by name.
    app.loader.import_default_modules()
    for job in jobs:
        options: dict[str, Any] = {"queue": job.queue} if job.queue else {}
        task = app.tasks.get(job.task_name)
        if task is not None:
            # Through the task itself, not app.send_task: send_task ignores
            # task_always_eager, so without a broker (the embedded default) the retry
            # would sit in the in-memory transport and never run.
            task.apply_async(args=job.args, kwargs=job.kwargs, **options)
        else:  # not registered in this process (e.g. another service's task)
            app.send_task(job.task_name, args=job.args, kwargs=job.kwargs, **options)
        job.retried_at = timezone.now()
        job.save(update_fields=["retried_at"])
    return len(jobs)
