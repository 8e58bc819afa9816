"""Celery beat's schedule without a broker or beat (portal.jobs.schedule), in a loop or
once (`--once`: every periodic job now, e.g. from cron or a test)."""

from typing import Any

from django.core.management.base import BaseCommand

from portal.jobs.schedule import schedule_run


class Command(BaseCommand):
    help = "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process, on their intervals."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Every job once, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_run(once=options["once"])
