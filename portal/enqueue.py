"""Jobs queued by task name once the caller's transaction commits (a rolled-back change
queues nothing).

By name, as Celery beat and the failed-job retry do: the code that decides a job is owed
(services, transitions) never imports the task modules that run it, which sit above them
and import them in turn."""

from typing import Any

from django.db import transaction

from portal.celery import app


def job_send(name: str, *args: Any) -> None:
    task = app.tasks.get(name)
    if task is None:  # a web process imports task modules on first need
        app.loader.import_default_modules()
        task = app.tasks[name]
    task.apply_async(args=args)


def job_enqueue_on_commit(name: str, *args: Any) -> None:
    transaction.on_commit(lambda: job_send(name, *args))
