"""Jobs queued by task name once the caller's transaction commits (a rolled-back change
queues nothing), through the outbox: a broker outage delays a job, never loses it.

By name, as Celery beat and the failed-job retry do: the code that decides a job is owed
(services, transitions) never imports the task modules that run it, which sit above them
and import them in turn."""

import threading
from typing import Any

from celery import Task
from django.db import transaction

from portal.celery import app
from portal.outbox.registry import effect_handler
from portal.outbox.services import effect_record

# Request threads of a fresh process may all queue their first job at once: one of them
# imports the task modules while the others wait, instead of finding the registry half
# filled (Celery marks the app finalized before its shared tasks are all registered).
_registry_lock = threading.Lock()


def _task(name: str) -> Task:
    task = app.tasks.get(name)
    if task is None:
        with _registry_lock:
            app.loader.import_default_modules()
            task = app.tasks[name]
    return task


def job_send(name: str, *args: Any) -> None:
    """Queue a job now. No publish retries: the caller (the outbox) retries with backoff."""
    _task(name).apply_async(args=args, retry=False)


@effect_handler
def job_send_effect(*, name: str, args: list[Any]) -> None:
    if app.conf.task_always_eager:
        # The job runs right here, inside the outbox's transaction: a savepoint keeps a
        # database error of the job from breaking it.
        with transaction.atomic():
            job_send(name, *args)
        return
    job_send(name, *args)


# Run in-process, a job's database work must not share a transaction with other effects.
job_send_effect.alone = lambda: app.conf.task_always_eager  # type: ignore[attr-defined]


def job_enqueue_on_commit(name: str, *args: Any) -> None:
    effect_record("portal.enqueue.job_send_effect", name=name, args=list(args))
