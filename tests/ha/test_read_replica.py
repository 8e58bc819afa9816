"""The optional read replica (DATABASE_REPLICA_URL, portal/db_router.py) on two real
PostgreSQL databases: the test database as the primary and a copy of it as the replica,
whose course titles end with " [replica]" so every answer tells which one gave it."""

import json
import os
import subprocess
import sys
import uuid

import pytest
import requests

from catalog.models import Course
from enrollment.models import Enrollment
from tests.factories import PASSWORD, make_course, make_instructor, make_user, token_for
from tests.ha.apps import start_app_server
from tests.ha.ports import APP_PORTS, free_ports
from tests.ha.replica import REPLICA_MARK
from tests.live import ROOT, test_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

PIN_SECONDS = 120  # longer than any test takes: a pinned read never depends on timing


def replica_env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": test_database_url(),
        "DATABASE_REPLICA_URL": url,
        "DATABASE_REPLICA_PIN_SECONDS": str(PIN_SECONDS),
    }


def test_reads_writes_and_transactions_go_where_they_belong(replica_database):
    course = make_course(title="Router Course", instructor=make_instructor())
    replica_database.copy_of_primary().mark_titles()
    done = subprocess.run(
        [sys.executable, "-m", "tests.ha.router_probe", str(course.pk)],
        cwd=ROOT,
        env={**os.environ, **replica_env(replica_database.url())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    replica_title = f"Router Course{REPLICA_MARK}"
    assert found["outside_a_request"] == "Router Course"  # jobs, sockets, commands
    assert found["catalog_read"] == replica_title
    assert (found["read_from"], found["relation_read_from"]) == ("replica", "replica")
    assert found["other_models_read_from"] == "default"  # accounts, enrollments: primary
    assert found["in_a_transaction"] == "Router Course"
    assert found["select_for_update"] == "Router Course"
    assert found["pinned"] == "Router Course"
    assert (found["migrate_replica"], found["migrate_default"]) == (False, True)
    # The object read on the replica was saved to the primary, and only there.
    assert found["saved_to"] == "default"
    assert Course.objects.get(pk=course.pk).summary == "saved from an object read on the replica"
    assert replica_database.execute(
        "SELECT summary FROM catalog_course WHERE id = %s", (course.pk,)
    ) == [(course.summary,)]


@pytest.fixture
def replica_server(replica_database):
    servers = []

    def start(replica_url: str, *, exclude: frozenset[int] = frozenset()):
        servers.append(start_app_server(exclude=exclude, **replica_env(replica_url)))
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def titles(answer: requests.Response) -> set[str]:
    answer.raise_for_status()
    body = answer.json()
    hits = body.get("results", body.get("hits"))
    return {hit["title"] for hit in hits} if hits is not None else {body["title"]}


def unique_page() -> dict:
    """Query parameters no earlier request used: the answer is not a cached one."""
    return {"page_size": 20 + uuid.uuid4().int % 80}


def test_catalog_pages_read_the_replica_and_a_writer_reads_its_writes(
    replica_database, replica_server
):
    instructor = make_instructor()
    courses = [
        make_course(title=f"Replica Zebrafish {n}", instructor=instructor, capacity=10)
        for n in range(4)
    ]
    student = make_user()
    token = token_for(student)
    replica_database.copy_of_primary().mark_titles()
    server = replica_server(replica_database.url())
    base = server.url
    everyone = {f"Replica Zebrafish {n}" for n in range(4)}
    from_replica = {title + REPLICA_MARK for title in everyone}

    # Anyone's catalog and search reads: the replica.
    assert titles(requests.get(f"{base}/api/courses", params=unique_page(), timeout=30)) == (
        from_replica
    )
    detail = requests.get(f"{base}/api/courses/{courses[0].slug}", timeout=30)
    assert titles(detail) == {f"Replica Zebrafish 0{REPLICA_MARK}"}
    search = requests.get(f"{base}/api/search", params={"q": "zebrafish"}, timeout=30)
    assert titles(search) == from_replica
    page = requests.get(f"{base}/courses/{courses[1].slug}", timeout=30)
    assert page.status_code == 200 and REPLICA_MARK in page.text

    # A client that wrote reads from the primary right after (an API client: its token).
    bearer = {"Authorization": f"Bearer {token}"}
    enrolled = requests.post(
        f"{base}/api/enrollments",
        json={"course": courses[2].slug},
        headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert enrolled.status_code == 201, enrolled.text
    own = requests.get(f"{base}/api/courses", params=unique_page(), headers=bearer, timeout=30)
    assert titles(own) == everyone
    seats = {course["slug"]: course["seats_taken"] for course in own.json()["results"]}
    assert seats[courses[2].slug] == 1
    own_search = requests.get(
        f"{base}/api/search", params={"q": "zebrafish fish"}, headers=bearer, timeout=30
    )
    assert titles(own_search) == everyone
    # ... while everyone else still reads the replica.
    assert titles(requests.get(f"{base}/api/courses", params=unique_page(), timeout=30)) == (
        from_replica
    )

    # The write went to the primary only.
    assert Enrollment.objects.filter(student__email=student.email, course=courses[2]).count() == 1
    assert replica_database.execute(
        "SELECT count(*) FROM enrollment_enrollment WHERE course_id = %s", (courses[2].pk,)
    ) == [(0,)]
    assert replica_database.execute(
        "SELECT seats_taken FROM catalog_course WHERE id = %s", (courses[2].pk,)
    ) == [(0,)]

    # A browser that signed in (a write) reads from the primary, through a cookie that
    # ends with the pin (a course whose answer no earlier request cached: a cached answer
    # is everyone's, and a real replica had replayed its change before it was cached).
    browser = requests.Session()
    browser.get(f"{base}/signin", timeout=30).raise_for_status()  # the CSRF cookie
    signed_in = browser.post(
        f"{base}/api/auth/login",
        json={"email": student.email, "password": PASSWORD},
        headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": base + "/signin"},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    assert f"Max-Age={PIN_SECONDS}" in signed_in.headers["Set-Cookie"]
    assert titles(browser.get(f"{base}/api/courses/{courses[3].slug}", timeout=30)) == {
        "Replica Zebrafish 3"
    }


def test_a_replica_that_does_not_answer_leaves_the_catalog_to_the_primary(replica_server):
    make_course(title="Still Served", instructor=make_instructor())
    (port,) = free_ports(APP_PORTS, 1)  # nothing listens there
    server = replica_server(
        f"postgresql://postgres@127.0.0.1:{port}/nothing", exclude=frozenset({port})
    )
    for _ in range(2):  # the first finds it down, the second does not try again
        answer = requests.get(f"{server.url}/api/courses", params=unique_page(), timeout=30)
        assert titles(answer) == {"Still Served"}
