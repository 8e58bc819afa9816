"""One request id from an HTTP request to the log lines of the jobs it queued, run by a real
Celery worker (the prefork pool, as production runs it) reading the real Redis broker:

- queued at once, after the request's commit, by the request itself;
- queued later, after an outage of the broker, by the outbox relay in a process of its
  own: the request (served by a real daphne server whose broker does not answer) left
  its jobs owed, with its id, and `manage.py relay_effects` queues them once the broker
  is back.

Every line is read back from the processes' own output, as an operator would."""

import json
import os
import subprocess
import sys
import time

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.test import Client

from enrollment.models import Enrollment
from loadtests.servers import CeleryWorker
from portal.celery import app
from portal.outbox.models import Effect
from tests.enrollment.helpers import guest_body
from tests.factories import make_course
from tests.live import ROOT, LiveServer, free_port, test_database_url
from tests.portal.logs import captured_lines, events, json_lines

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

QUEUES = ("emails", "default", "notifications")
# The one job an activation queues, and the three it queues in the worker.
QUEUED = "enrollment.tasks.queue_activation_followups"
JOBS = {
    QUEUED,
    "enrollment.tasks.send_welcome_email",
    "enrollment.tasks.process_course_access",
    "enrollment.tasks.notify_instructors",
}


@pytest.fixture
def broker():
    """The real Redis broker, emptied, with eager execution switched off here."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(*QUEUES)
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = True
    client.delete(*QUEUES)


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    started = CeleryWorker(
        queues=QUEUES,
        name="request-id",
        log_dir=tmp_path_factory.mktemp("worker"),
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    ).start()
    yield started
    started.stop()


def jobs_done(enrollment_id: int) -> bool:
    return Enrollment.objects.filter(
        pk=enrollment_id,
        welcome_email_sent_at__isnull=False,
        access_granted_at__isnull=False,
        instructors_notified_at__isnull=False,
    ).exists()


def worker_lines_once_run(enrollment_id: int, worker: CeleryWorker, since: int) -> list[dict]:
    """The worker's lines since `since`, once the four jobs ran and said so: a job's last
    line is written after its work is committed."""
    deadline = time.monotonic() + 90
    while True:
        lines = json_lines(worker.log()[since:])
        if jobs_done(enrollment_id) and set(job_runs(lines)) >= JOBS:
            return lines
        assert worker.process is not None and worker.process.poll() is None, worker.log()[-3000:]
        assert time.monotonic() < deadline, f"the jobs did not run: {worker.log()[-3000:]}"
        time.sleep(0.2)


def job_runs(lines: list[dict]) -> dict[str, set]:
    """Per job name: the request ids of the worker's lines about its runs."""
    runs: dict[str, set] = {}
    for line in lines:
        event = line.get("event", "")
        if line.get("logger") == "celery.app.trace" and event.startswith("Task "):
            name = event.split()[1].split("[")[0]
            runs.setdefault(name, set()).add(line.get("request_id"))
    return runs


def test_the_jobs_a_request_queues_log_with_its_id(broker, worker):
    course = make_course(price="0.00")
    logged_before = len(worker.log())
    with captured_lines() as request_lines:
        answer = Client().post(
            "/api/enrollments",
            json.dumps(guest_body(course, "corr@example.com", None)),
            content_type="application/json",
            HTTP_X_REQUEST_ID="corr-fast-0001",
        )
    assert answer.status_code == 201, answer.content
    assert answer["X-Request-ID"] == "corr-fast-0001"
    assert [line["request_id"] for line in events(request_lines, "enrollment.activated")] == [
        "corr-fast-0001"
    ]

    lines = worker_lines_once_run(answer.json()["id"], worker, logged_before)
    assert job_runs(lines) == {name: {"corr-fast-0001"} for name in JOBS}
    assert [line["request_id"] for line in events(lines, "email.welcome_sent")] == [
        "corr-fast-0001"
    ]


def test_jobs_owed_through_a_broker_outage_keep_the_requests_id(broker, worker, tmp_path):
    course = make_course(price="0.00")
    # Nothing listens on this port: the server's broker is down for the whole request.
    server = LiveServer(
        log_dir=tmp_path,
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    ).start()
    try:
        answer = requests.post(
            f"{server.url}/api/enrollments",
            json=guest_body(course, "outage@example.com", None),
            headers={"X-Request-ID": "corr-outage-0002"},
            timeout=30,
        )
    finally:
        server.stop()
    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Request-ID"] == "corr-outage-0002"
    enrollment_id = answer.json()["id"]
    server_lines = json_lines(server.log_path.read_text())
    assert [line["request_id"] for line in events(server_lines, "enrollment.activated")] == [
        "corr-outage-0002"
    ]
    failed = events(server_lines, "outbox.effect_failed")
    assert len(failed) == 1  # the activation's one job postponed, not lost
    assert {line["request_id"] for line in failed} == {"corr-outage-0002"}
    owed = Effect.objects.filter(handler="portal.enqueue.job_send_effect")
    assert [effect.payload["name"] for effect in owed] == [QUEUED]
    assert {effect.request_id for effect in owed} == {"corr-outage-0002"}
    assert not jobs_done(enrollment_id)

    logged_before = len(worker.log())
    relay = subprocess.run(
        [sys.executable, "manage.py", "relay_effects", "--once", "--now"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert relay.returncode == 0, relay.stdout + relay.stderr
    assert not Effect.objects.exists()

    lines = worker_lines_once_run(enrollment_id, worker, logged_before)
    assert job_runs(lines) == {name: {"corr-outage-0002"} for name in JOBS}
    assert [line["request_id"] for line in events(lines, "email.welcome_sent")] == [
        "corr-outage-0002"
    ]
