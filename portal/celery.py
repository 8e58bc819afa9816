"""The Celery app: queues `emails` (high), `default`, `notifications` (low)."""

import logging.config
import os
from typing import Any

from celery import Celery, Task, signals
from kombu import Queue

from portal.request_id import (
    request_id_get,
    request_id_new,
    request_id_reset,
    request_id_set,
    request_id_well_formed,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# DjangoTask adds delay_on_commit(): a job is queued only if the transaction commits.
app = Celery("portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("emails", "default", "notifications")]
app.conf.task_default_queue = "default"
app.autodiscover_tasks()

# The message header that carries the request id from whoever queued a job to its run.
REQUEST_ID_HEADER = "x_request_id"


@signals.setup_logging.connect
def _logging_from_settings(loglevel: int | None = None, **_: Any) -> None:
    """Workers and beat log as the app servers do (settings.LOGGING: structlog, JSON lines
    with the request id), not in Celery's own format; `-l` still sets Celery's own level."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


@signals.before_task_publish.connect
def _send_request_id(headers: dict[str, Any], **_: Any) -> None:
    value = request_id_get()
    if value is not None:
        headers.setdefault(REQUEST_ID_HEADER, value)


# A run's binding, undone when it ends: a worker process runs job after job, and an eager
# run (in the queuing process) must leave the caller's id as it found it.
_bindings: dict[str, Any] = {}


@signals.task_prerun.connect
def _bind_request_id(task_id: str, task: Task, **_: Any) -> None:
    """A job logs with the id its message carries; run eagerly, with the caller's; queued by
    no request (beat), with one of its own."""
    carried = getattr(task.request, REQUEST_ID_HEADER, None)
    value = carried if request_id_well_formed(carried) else None
    value = value or request_id_get() or request_id_new()
    _bindings[task_id] = request_id_set(value)


@signals.task_postrun.connect
def _unbind_request_id(task_id: str, **_: Any) -> None:
    token = _bindings.pop(task_id, None)
    if token is not None:
        request_id_reset(token)
