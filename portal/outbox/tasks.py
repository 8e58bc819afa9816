from celery import shared_task

from portal.jobs.base import PortalTask
from portal.outbox.services import effects_relay


@shared_task(base=PortalTask)
def relay_effects() -> dict[str, int]:
    return effects_relay()
