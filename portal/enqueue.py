"""Jobs queued by task name once the caller's transaction commits (a rolled-back change
queues nothing).

By name, as Celery beat and the failed-job retry do: the code that decides a job is owed
(services, transitions) never imports the task modules that run it, which sit above them
and import them in turn."""

import threading
from typing import Any

from celery import Task
from django.db import transaction

from portal.celery import app

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
    _task(name).apply_async(args=args)


def job_enqueue_on_commit(name: str, *args: Any) -> None:
    transaction.on_commit(lambda: job_send(name, *args))
