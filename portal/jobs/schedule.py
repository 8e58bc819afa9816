"""Celery beat's schedule (settings.CELERY_BEAT_SCHEDULE) run without a broker: each
job's body called in this process on its interval. The embedded default (no broker, no
beat, the in-memory channel layer) runs it in a thread of the serving process
(RUN_SCHEDULE_IN_PROCESS, set by `scripts/run`), so what the jobs publish (a checkout
hold expiring releases its seat) reaches that process's sockets. With a broker, Celery
beat runs the same entries instead."""

import threading
import time
from typing import Any

import structlog
from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

log = structlog.get_logger(__name__)
_started = threading.Lock()
_thread: threading.Thread | None = None


def schedule_run(*, once: bool = False, stop: threading.Event | None = None) -> None:
    beat: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE  # {"task", "schedule"}
    entries = [(name, entry["task"], float(entry["schedule"])) for name, entry in beat.items()]
    due = dict.fromkeys((name for name, _, _ in entries), 0.0)
    stop = stop or threading.Event()
    while not stop.is_set():
        now = time.monotonic()
        for name, task, every in entries:
            if due[name] > now:
                continue
            due[name] = now + every
            try:
                import_string(task)()  # the task's body, here and now
            except Exception:  # a locked SQLite file, a dependency down: next round
                log.warning("schedule.job_failed", job=name, exc_info=True)
            finally:
                if not once:  # a long-lived loop: drop broken or aged connections
                    close_old_connections()
        if once:
            return
        stop.wait(max(0.2, min(due.values()) - time.monotonic()))


def schedule_thread_start() -> None:
    """Once per process; a daemon thread, so it ends with the server."""
    global _thread
    with _started:
        if _thread is not None:
            return
        _thread = threading.Thread(target=schedule_run, name="portal-schedule", daemon=True)
        _thread.start()
    log.info("schedule.started_in_process", jobs=len(settings.CELERY_BEAT_SCHEDULE))
