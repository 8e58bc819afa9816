"""Carry out owed effects in a loop (or once): a relay that needs no broker to run."""

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portal.outbox.services import effects_backlog, effects_relay


class Command(BaseCommand):
    help = "Carry out the effects committed changes still owe (jobs to queue, statistics, caches)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument(
            "--until-empty",
            type=float,
            metavar="SECONDS",
            help="Repeat until nothing is owed, giving up after SECONDS (exit status 1).",
        )
        parser.add_argument(
            "--now", action="store_true", help="Do not wait out the backoff of failed effects."
        )
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["until_empty"] if options["until_empty"] else None
        while True:
            try:
                outcome = effects_relay(postponed_too=options["now"])
            except Exception as exc:  # the database is down: try again next round
                self.stderr.write(f"relay failed: {exc!r}")
                close_old_connections()
                outcome = {"due": 0, "done": 0, "failed": 0}
            if options["once"]:
                self.stdout.write(str(outcome))
                return
            if deadline is not None:
                try:
                    left = effects_backlog()
                except Exception:
                    left = -1
                if left == 0:
                    return
                if time.monotonic() > deadline:
                    self.stderr.write(f"{left} effect(s) still owed")
                    raise SystemExit(1)
            time.sleep(options["interval"])
