"""The portal through PgBouncer in transaction mode (docs/operations.md, "PgBouncer"):
DATABASE_URL names PgBouncer, DISABLE_SERVER_SIDE_CURSORS=true, no pool of the portal's
own; PgBouncer lends its one server connection per transaction to every client. The key
requests run through it, concurrent checkouts included: the catalog, search (settings
local to one statement), enrollments (locks, idempotency), progress, the roster CSV
(QuerySet.iterator), a socket's hello and resume, /readyz."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from enrollment.models import Enrollment
from portal.events.publish import latest_seq
from tests.factories import make_course, make_instructor, make_user, token_for
from tests.faults.stack import Listener
from tests.ha.apps import start_app_server
from tests.ha.pgbouncer import PgBouncer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

STUDENTS = 6


@pytest.fixture
def bouncer(django_db_setup):
    pooler = PgBouncer(connection.settings_dict)
    try:
        yield pooler.start()
    finally:
        pooler.stop()


@pytest.fixture
def server(bouncer):
    live = start_app_server(
        DATABASE_URL=bouncer.url(),
        DISABLE_SERVER_SIDE_CURSORS="true",
        DB_POOL_MAX_SIZE="0",  # connections to PgBouncer are cheap; it is the pool
    )
    try:
        yield live
    finally:
        live.stop()


def test_the_key_requests_run_through_pgbouncer_in_transaction_mode(bouncer, server):
    base = server.url
    instructor = make_instructor()
    course = make_course(
        title="Pooled Quokka Basics",
        instructor=instructor,
        capacity=STUDENTS,
        modules=1,
        lessons_per_module=3,
    )
    students = [make_user() for _ in range(STUDENTS)]
    tokens = [token_for(student) for student in students]
    before = bouncer.stats()

    def enroll(token: str) -> tuple[int, dict]:
        answer = requests.post(
            f"{base}/api/enrollments",
            json={"course": course.slug},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=60,
        )
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=STUDENTS) as pool:
        answers = list(pool.map(enroll, tokens))
    assert [status for status, _ in answers] == [201] * STUDENTS, answers
    assert Enrollment.objects.filter(course=course, status="active").count() == STUDENTS
    assert enroll(token_for(make_user()))[1]["error"]["code"] == "course_full"

    listing = requests.get(f"{base}/api/courses", timeout=30).json()
    assert [row["seats_taken"] for row in listing["results"]] == [STUDENTS]
    detail = requests.get(f"{base}/api/courses/{course.slug}", timeout=30).json()
    lesson = detail["modules"][0]["lessons"][0]["id"]
    search = requests.get(f"{base}/api/search", params={"q": "quokka"}, timeout=30).json()
    assert [hit["slug"] for hit in search["hits"]] == [course.slug]
    typo = requests.get(f"{base}/api/search", params={"q": "quokak"}, timeout=30).json()
    assert [hit["slug"] for hit in typo["hits"]] == [course.slug]

    first = answers[0][1]
    progress = requests.post(
        f"{base}/api/enrollments/{first['id']}/progress",
        json={"lesson": lesson, "completed": True},
        headers={"Authorization": f"Bearer {tokens[0]}"},
        timeout=30,
    )
    assert progress.status_code == 200, progress.text

    roster = requests.get(
        f"{base}/api/courses/{course.slug}/roster.csv",
        headers={"Authorization": f"Bearer {token_for(instructor)}"},
        timeout=60,
    )
    assert roster.status_code == 200
    assert len(roster.text.strip().splitlines()) == STUDENTS + 1  # the header, a row each

    listener = Listener(server, tokens[0])
    assert listener.hello["seq"] == latest_seq(students[0].pk)
    replayed = [frame["seq"] for frame in listener.resume_all()]
    assert replayed == list(range(1, latest_seq(students[0].pk) + 1))
    listener.close()

    assert requests.get(f"{base}/readyz", timeout=30).status_code == 200
    after = bouncer.stats()
    # Every request above went through PgBouncer's transactions.
    assert after["total_xact_count"] > before.get("total_xact_count", 0) + STUDENTS
