"""The base of every background job: late acknowledgement, retries with exponential
backoff and jitter on transient errors, and a FailedJob row once retries run out."""

import traceback
from smtplib import SMTPException

import kombu.exceptions
import redis.exceptions
import structlog
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError

from portal.jobs.models import FailedJob

log = structlog.get_logger(__name__)


class RetryableJobError(RuntimeError):
    """Raised by a job for a failure worth retrying that no library error names."""


# Worth retrying: the network, the mail server, the broker or the database connection
# hiccuped. Not the database's other errors (IntegrityError, ProgrammingError, DataError):
# a retry would fail the same way, so those go straight to FailedJob.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RetryableJobError,
    SMTPException,
    OSError,  # ConnectionError, TimeoutError and socket errors among them
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)


class PortalTask(DjangoTask):
    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    # Below the broker's visibility timeout (settings), or a waiting retry is redelivered.
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 6

    def _queue_name(self) -> str:
        """The queue the job came from: known from a broker delivery; eager runs have none,
        and Task declares no `queue` attribute unless one is set, so read it defensively."""
        delivery = self.request.delivery_info or {}
        return delivery.get("routing_key") or getattr(self, "queue", None) or ""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Called once retries are exhausted (or for a non-transient error)."""
        log.error("job.failed", task=self.name, task_id=task_id, error=repr(exc))
        try:
            FailedJob.objects.create(
                task_name=self.name,
                task_id=task_id or "",
                args=list(args or []),
                kwargs=dict(kwargs or {}),
                queue=self._queue_name(),
                exception=repr(exc)[:2000],
                traceback="".join(traceback.format_exception(exc))[-10000:],
            )
        except Exception:
            log.exception("job.failed_record_error", task=self.name)
