from celery import shared_task

from portal.jobs.base import PortalTask
from portal.jobs.once import job_runs_prune


@shared_task(base=PortalTask)
def prune_job_runs() -> int:
    return job_runs_prune()
