"""The Celery app: queues `emails` (high), `default`, `notifications` (low)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# DjangoTask adds delay_on_commit(): a job is queued only if the transaction commits.
app = Celery("portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("emails", "default", "notifications")]
app.conf.task_default_queue = "default"
app.autodiscover_tasks()
