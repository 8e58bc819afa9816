"""Request ids (portal.request_id): every answer carries X-Request-ID, every line logged for
the request has it, and so does every line of the jobs the request owed, however late and
wherever they are carried out (the outbox row keeps the id, the job's message carries it).

The jobs here run in this process (eagerly, or queued on the real Redis broker and read
back from it); tests/portal/test_request_id_worker.py runs them in a real worker behind a
real daphne server."""

import base64
import contextvars
import json
import logging
import re

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import Client

from enrollment.models import Enrollment
from portal.celery import REQUEST_ID_HEADER, app
from portal.enqueue import job_send
from portal.outbox.models import Effect
from portal.outbox.services import effects_relay
from portal.request_id import request_id_bound, request_id_get
from realtime.handshake import CLOSE_TOO_MANY_SOCKETS
from tests.enrollment.helpers import guest_body
from tests.factories import make_course
from tests.portal.logs import captured_lines, events
from tests.realtime.helpers import communicator, connected

pytestmark = pytest.mark.django_db

FRESH = re.compile(r"[0-9a-f]{32}")
QUEUES = ("emails", "default", "notifications")


@pytest.fixture
def lines():
    with captured_lines() as captured:
        yield captured


def post_enrollment(course, email: str, request_id: str | None = None):
    headers = {"HTTP_X_REQUEST_ID": request_id} if request_id is not None else {}
    return Client().post(
        "/api/enrollments",
        json.dumps(guest_body(course, email, None)),
        content_type="application/json",
        **headers,
    )


def test_every_answer_gets_an_id_of_its_own(client):
    answers = [
        client.get("/healthz"),
        client.get("/api/courses"),
        client.get("/api/courses/no-such-course"),
        client.get("/"),
    ]
    ids = [answer["X-Request-ID"] for answer in answers]
    assert all(FRESH.fullmatch(value) for value in ids), ids
    assert len(set(ids)) == len(ids)
    assert request_id_get() is None  # nothing stays bound once a request is answered


def test_a_well_formed_incoming_id_is_kept_on_the_answer_and_on_every_line(client, lines):
    incoming = "0f4c2a9e-lb.7_Z"
    answer = client.get("/api/courses/no-such-course", HTTP_X_REQUEST_ID=incoming)

    assert answer.status_code == 404
    assert answer["X-Request-ID"] == incoming
    # Django logs a 4xx once the middleware has returned: the id comes with the request.
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found, lines
    assert {line.get("request_id") for line in not_found} == {incoming}


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "short",  # under 8 characters
        "x" * 129,  # over 128
        'abcdefgh\n{"event": "forged line"}',  # a line of its own in the log
        "has spaces in it",
        "semi;colon=12345",
        "ünïcödé-1234",
    ],
)
def test_a_malformed_incoming_id_is_replaced_by_a_fresh_one(client, lines, incoming):
    answer = client.get("/api/courses/no-such-course", HTTP_X_REQUEST_ID=incoming)

    fresh = answer["X-Request-ID"]
    assert FRESH.fullmatch(fresh) and fresh != incoming
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert {line.get("request_id") for line in not_found} == {fresh}


def test_an_answer_the_middleware_refuses_early_carries_the_id_too(client, settings):
    answer = client.post(
        "/api/enrollments",
        "{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.API_MAX_BODY_BYTES + 1),
        HTTP_X_REQUEST_ID="too-large-0001",
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert answer["X-Request-ID"] == "too-large-0001"


def test_the_effects_an_enrollment_owes_keep_its_id_and_its_jobs_log_with_it(
    lines, django_capture_on_commit_callbacks
):
    """The test's transaction never commits, so the fast path after commit never runs: the
    effects stay owed, as when the process dies right after its commit. The relay carries
    them out later, in a context where nothing is bound (another process's, a beat job's),
    and the jobs (run eagerly here) log with the enrollment's id."""
    course = make_course(price="0.00")
    with django_capture_on_commit_callbacks(execute=False):
        answer = post_enrollment(course, "owed@example.com", "enroll-req-0001")
    assert answer.status_code == 201, answer.content
    assert answer["X-Request-ID"] == "enroll-req-0001"
    owed = list(Effect.objects.values_list("handler", "request_id"))
    assert ("portal.enqueue.job_send_effect", "enroll-req-0001") in owed
    assert {request_id for _, request_id in owed} == {"enroll-req-0001"}

    relayed = contextvars.Context().run(effects_relay)
    assert relayed["done"] == len(owed) and not Effect.objects.exists()

    enrollment = Enrollment.objects.get(pk=answer.json()["id"])
    assert enrollment.welcome_email_sent_at is not None  # the job ran
    activated = events(lines, "enrollment.activated")  # logged by the request
    welcomed = events(lines, "email.welcome_sent")  # logged by the job
    assert activated and welcomed
    assert {line.get("request_id") for line in activated + welcomed} == {"enroll-req-0001"}
    assert request_id_get() is None


@pytest.fixture
def broker():
    """The real Redis broker, emptied, with eager execution switched off."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(*QUEUES)
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = True
    client.delete(*QUEUES)


def queued_headers(client: redis.Redis) -> dict[str, dict]:
    """Per task name: the headers of its waiting message."""
    found = {}
    for queue in QUEUES:
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            found[message["headers"]["task"]] = message["headers"]
            json.loads(base64.b64decode(message["body"]))  # a real Celery message
    return found


def test_a_job_the_relay_queues_carries_the_id_in_its_message(
    broker, django_capture_on_commit_callbacks
):
    course = make_course(price="0.00")
    with django_capture_on_commit_callbacks(execute=False):
        answer = post_enrollment(course, "queued@example.com", "enroll-req-0002")
    assert answer.status_code == 201

    contextvars.Context().run(effects_relay)

    headers = queued_headers(broker)
    assert set(headers) == {"enrollment.tasks.queue_activation_followups"}
    assert headers["enrollment.tasks.queue_activation_followups"][REQUEST_ID_HEADER] == (
        "enroll-req-0002"
    )

    # The worker runs it with that id bound (as a delivery binds it), and the jobs it
    # queues carry the same id.
    broker.delete(*QUEUES)
    enrollment_id = answer.json()["id"]
    with request_id_bound("enroll-req-0002"):
        app.tasks["enrollment.tasks.queue_activation_followups"].apply(args=[enrollment_id])
    headers = queued_headers(broker)
    assert set(headers) == {
        "enrollment.tasks.send_welcome_email",
        "enrollment.tasks.process_course_access",
        "enrollment.tasks.notify_instructors",
    }
    assert {h[REQUEST_ID_HEADER] for h in headers.values()} == {"enroll-req-0002"}


def test_a_job_queued_by_no_request_carries_no_id(broker):
    contextvars.Context().run(job_send, "portal.jobs.tasks.prune_job_runs")
    assert REQUEST_ID_HEADER not in queued_headers(broker)["portal.jobs.tasks.prune_job_runs"]


def test_an_eager_job_leaves_the_callers_id_bound(lines):
    """A job run in the queuing process binds the caller's id for its run and leaves the
    binding as it found it."""
    course = make_course(price="0.00")
    enrollment_id = post_enrollment(course, "eager@example.com").json()["id"]
    with request_id_bound("caller-0000001"):
        app.tasks["enrollment.tasks.send_welcome_email"].apply(args=[enrollment_id])
        assert request_id_get() == "caller-0000001"
    assert request_id_get() is None
    welcomed = events(lines, "email.welcome_sent")
    assert [line.get("request_id") for line in welcomed] == ["caller-0000001"]


# --- websockets ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_sockets_log_lines_carry_its_handshake_id(settings, lines):
    """The consumer's lines, logged while the connection lives (here: closed for
    flooding), carry the id of its handshake; another socket gets one of its own."""
    settings.WS_FRAMES_PER_SECOND = 0  # no refill: the second frame on is refused
    settings.WS_FRAME_BURST = 1
    settings.WS_FLOOD_CLOSE_AFTER = 2
    socket, _ = await connected(headers=[(b"x-request-id", b"socket-handshake-1")])
    other, _ = await connected(headers=[(b"x-request-id", b"bad id\n")])
    for _ in range(4):
        await socket.send_json_to({"type": "ping"})
    closed = await socket.receive_output(timeout=10)
    while closed["type"] != "websocket.close":
        closed = await socket.receive_output(timeout=10)
    await other.send_json_to({"type": "ping"})
    assert (await other.receive_json_from(timeout=10))["type"] == "pong"
    await other.disconnect()

    flooded = events(lines, "ws.flood_closed")
    assert [line.get("request_id") for line in flooded] == ["socket-handshake-1"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_refused_handshake_logs_with_its_own_id(settings, lines):
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 1
    first, _ = await connected(headers=[(b"x-request-id", b"first-socket-01")])
    refused = await database_sync_to_async(communicator)(
        headers=[(b"x-request-id", b"second-socket-02")]
    )
    ok, _ = await refused.connect(timeout=10)
    assert ok  # accepted, then closed at once with the reason
    closed = await refused.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": CLOSE_TOO_MANY_SOCKETS}
    await first.disconnect()

    too_many = events(lines, "ws.too_many_sockets")
    assert [line.get("request_id") for line in too_many] == ["second-socket-02"]


def test_a_record_made_outside_any_request_has_no_id(lines):
    logging.getLogger("portal.test").warning("outside")
    (line,) = [line for line in lines if line["event"] == "outside"]
    assert "request_id" not in line
