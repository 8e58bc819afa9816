"""Work done once in effect, whatever the deliveries.

A run leases the work, does it, and only then marks it done: a worker killed mid-way
leaves a lease that lapses (JOB_LEASE_SECONDS), so the redelivered job does the work
again instead of finding it "claimed" and skipping it. A run that finds a live lease of
another raises `JobBusy`, a transient error: it is retried with backoff until the lease
is released or lapses. What cannot be made exactly once is a crash between the work's
external effect (the SMTP server accepted the message) and the done mark: then it is
done twice, never zero times.
"""

from collections.abc import Callable
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.jobs.base import RetryableJobError
from portal.jobs.models import JobRun

log = structlog.get_logger(__name__)


class JobBusy(RetryableJobError):
    """Another run holds the work's lease."""


def job_run_once(key: str, work: Callable[[], str]) -> str:
    """`work()` unless it was done before ("skipped"); raises JobBusy while another run
    holds it."""
    now = timezone.now()
    if not JobRun.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                JobRun.objects.create(key=key)
        except IntegrityError:  # a concurrent run created it first
            pass
    claimed = (
        JobRun.objects.filter(key=key, done_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        if JobRun.objects.filter(key=key, done_at__isnull=False).exists():
            return "skipped"
        raise JobBusy(f"{key} is being done by another run")
    try:
        result = work()
    except BaseException:
        _lease_give_back(key)
        raise
    JobRun.objects.filter(key=key).update(done_at=timezone.now(), lease_until=None)
    return result


def _lease_give_back(key: str) -> None:
    """After failed work, so its retry runs at once. The work's own connection may be what
    failed (cut by a failover): then once more on a new one. Kept, the lease would make
    every retry JobBusy until it lapses, longer than the retries' backoff lasts."""
    try:
        JobRun.objects.filter(key=key).update(lease_until=None)
        return
    except DatabaseError:
        if connection.in_atomic_block:  # the caller's transaction is broken: it is theirs
            log.warning("job.lease_keep", key=key, exc_info=True)
            return
        connection.close_if_unusable_or_obsolete()
    try:
        JobRun.objects.filter(key=key).update(lease_until=None)
    except DatabaseError:  # the database is down: the lease lapses (JOB_LEASE_SECONDS)
        log.warning("job.lease_keep", key=key, exc_info=True)


def job_runs_prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget done work once no delivery of its job can still arrive."""
    cutoff = timezone.now() - older_than
    deleted, _ = JobRun.objects.filter(done_at__lt=cutoff).delete()
    return deleted
