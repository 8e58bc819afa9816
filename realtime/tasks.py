"""Periodic pruning of the event log; a resume past the pruned rows answers resume.gap."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal.events.models import UserEvent
from portal.jobs.base import PortalTask


@shared_task(base=PortalTask)
def prune_events() -> int:
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted, _ = UserEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
