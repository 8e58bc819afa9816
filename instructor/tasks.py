"""Instructor jobs: thin wrappers over services, taking ids (see instructor.services)."""

from celery import shared_task

from instructor import services
from portal.jobs.base import PortalTask


@shared_task(base=PortalTask)
def send_announcement_batch(announcement_id: int, after_student_id: int) -> str:
    return services.announcement_batch_send(
        announcement_id=announcement_id, after_student_id=after_student_id
    )
