"""The portal on Redis Sentinel, configured by environment only (REDIS_SENTINELS,
REDIS_MASTER_NAME; REDIS_URL and CELERY_BROKER_URL name a host that does not exist: only
their database indexes count), through a real failover: the master is SIGKILLed under
open websockets and the sentinels promote the replica.

Before and after: signed-in sockets receive their events live, jobs go through the broker
to a real Celery worker, the cache answers from the current master, a new socket's
handshake counts it there. Through it: no committed event is lost (every socket's
`resume` from 0 replays the whole log without a gap, and every event seen live is in it),
no job is lost (every enrollment's three jobs run)."""

import uuid

import pytest
import requests

from enrollment.models import Enrollment
from portal.events.publish import latest_seq
from tests.factories import make_course, make_instructor, make_user, token_for
from tests.faults.stack import Listener, record_figures
from tests.ha.apps import Worker, manage, start_app_server
from tests.ha.servers import wait_for
from tests.live import test_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

WAIT = 60  # seconds; every wait ends on a condition


@pytest.fixture
def portal_env(sentinel_set) -> dict[str, str]:
    return {
        "DATABASE_URL": test_database_url(),
        **sentinel_set.env(),
        # Hosts nobody answers on: with sentinels only the database index is used.
        "REDIS_URL": "redis://unused.invalid:6379/0",
        "CELERY_BROKER_URL": "redis://unused.invalid:6379/1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WS_HEARTBEAT_SECONDS": "1",
        # A job whose acknowledgement the failover lost comes back within seconds (its
        # done mark makes the rerun a no-op), not after the default five minutes.
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "6",
        "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "JOB_LEASE_SECONDS": "4",
    }


@pytest.fixture
def portal(portal_env):
    server = worker = None
    try:
        server = start_app_server(**portal_env)
        worker = Worker(f"ha-{uuid.uuid4().hex[:6]}", **portal_env).start()
        yield server
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()


def enroll(base: str, course, token: str) -> None:
    """A client enrolling, retrying with its Idempotency-Key until 201 (a 503 while Redis
    fails over is an answer a client retries)."""
    key = f"ha-{course.slug}"
    statuses = []

    def created() -> bool:
        try:
            answer = requests.post(
                f"{base}/api/enrollments",
                json={"course": course.slug},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                timeout=30,
            )
        except requests.RequestException:
            statuses.append(0)
            return False
        statuses.append(answer.status_code)
        return answer.status_code == 201

    wait_for(created, timeout=WAIT, what=f"enrollment in {course.slug}")
    assert set(statuses) <= {0, 201, 503}, statuses


def queue_depths_reported(base: str) -> bool:
    """/metrics read the queues' lengths from the broker's current master."""
    text = requests.get(f"{base}/metrics", timeout=30).text
    return all(f'portal_queue_depth{{queue="{queue}"}}' in text for queue in ("emails", "default"))


def jobs_done(count: int) -> bool:
    return (
        Enrollment.objects.filter(
            welcome_email_sent_at__isnull=False,
            access_granted_at__isnull=False,
            instructors_notified_at__isnull=False,
        ).count()
        == count
    )


def test_sockets_jobs_and_cache_come_through_a_sentinel_failover(sentinel_set, portal, portal_env):
    instructor = make_instructor()
    courses = iter([make_course(instructor=instructor, price="0.00") for _ in range(10)])
    student = make_user()
    token = token_for(student)
    listeners = [Listener(portal, token) for _ in range(2)]

    # Before: events arrive live, jobs run on the worker, the cache is on the master.
    enroll(portal.url, next(courses), token)
    before = latest_seq(student.pk)
    wait_for(
        lambda: all(before in listener.live_seqs() for listener in listeners),
        timeout=WAIT,
        what="live events before the failover",
    )
    wait_for(lambda: jobs_done(1), timeout=120, what="the first enrollment's jobs")
    assert requests.get(f"{portal.url}/api/courses", timeout=30).status_code == 200
    assert sentinel_set.master().client(db=0).keys("portal:1:catalog:*")
    assert queue_depths_reported(portal.url)

    old_port = sentinel_set.kill_master()
    new = sentinel_set.wait_for_new_master(old_port, timeout=WAIT)

    # After: clients keep using the portal; live delivery comes back by itself.
    enrolled = 1

    def delivered_live() -> bool:
        nonlocal enrolled
        enroll(portal.url, next(courses), token)
        enrolled += 1
        target = latest_seq(student.pk)
        try:
            wait_for(
                lambda: all(target in listener.live_seqs() for listener in listeners),
                timeout=10,
                what="a live event",
            )
        except AssertionError:
            return False
        return True

    wait_for(delivered_live, timeout=4 * WAIT, what="live events after the failover")

    # Effects a request could not hand to the broker meanwhile are carried out (beat's
    # relay-effects does this every 5 s in a deployment); the worker runs every job.
    manage(portal_env, "relay_effects", "--until-empty", "60", "--now")
    wait_for(lambda: jobs_done(enrolled), timeout=120, what="every enrollment's jobs")

    # The cache and a new socket's handshake (socket counts) work on the new master.
    wait_for(
        lambda: requests.get(f"{portal.url}/readyz", timeout=30).status_code == 200,
        timeout=WAIT,
        what="/readyz",
    )
    requests.get(f"{portal.url}/api/courses?page_size=5", timeout=30).raise_for_status()
    assert new.client(db=0).keys("portal:1:catalog:*")
    assert new.client(db=0).keys("portal:ws:sockets:*")
    wait_for(lambda: queue_depths_reported(portal.url), timeout=WAIT, what="queue depths")
    late = Listener(portal, token)
    assert late.hello["seq"] == latest_seq(student.pk)
    late.close()

    # Nothing committed was lost: the log holds every event, numbered without a gap, and
    # every socket can replay all of it; what it got live is part of it.
    final = latest_seq(student.pk)
    for listener in listeners:
        replayed = [frame["seq"] for frame in listener.resume_all()]
        assert replayed == list(range(1, final + 1))
        assert set(listener.live_seqs()) <= set(replayed)
        listener.close()
    record_figures(
        "redis master killed, sentinels promoted the replica",
        enrollments=enrolled,
        events=final,
        resyncs=[sum(f["type"] == "resync" for f in listener.frames) for listener in listeners],
        lost=0,
    )
