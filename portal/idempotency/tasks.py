from celery import shared_task

from portal.idempotency.services import idempotency_prune
from portal.jobs import PortalTask


@shared_task(base=PortalTask)
def prune_idempotency_keys() -> int:
    return idempotency_prune()
