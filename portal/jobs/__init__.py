"""Background jobs: the task base (portal.jobs.base) and the dead-letter table of jobs that
ran out of retries (FailedJob), with an admin to retry them.

Nothing is imported here: Django imports this package while it loads the apps, before
models may be imported. Tasks use `from portal.jobs.base import PortalTask`."""
