"""An account's data as a whole: the export (GET /api/me/export) and the erasure
(DELETE /api/me), on data made through the real API (enrollments, a payment with its
ledger, a receipt, a certificate, progress, live-update events, an Idempotency-Key)."""

import asyncio
import json
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client

from catalog.models import Coupon, CourseInstructor, Lesson
from enrollment.models import Certificate, Enrollment, Payment, Receipt, Student
from instructor.models import Announcement
from instructor.services import announcement_create
from portal.accounts.models import AuthToken, User, UserSession
from portal.events.models import UserEvent
from portal.idempotency.models import IdempotencyKey
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, enroll_as
from tests.factories import PASSWORD, make_course, make_instructor, make_user, token_for
from tests.portal import accounts_live
from tests.portal.accounts_live import (
    Browser,
    close_code,
    cookie_call,
    open_ws,
    token_call,
)

server = accounts_live.server  # the running server, one per module

LENA = {"email": "lena.learner@example.test", "name": "Lena Learnwell"}
OTTO = {"email": "otto.other@example.test", "name": "Otto Otherperson"}


def complete_all(user: User, enrollment_id: int, course) -> None:
    client = client_for(user)
    lessons = Lesson.objects.filter(module__course=course).order_by("module__position", "position")
    for lesson in lessons:
        with after_commit():
            answer = client.post(
                f"/api/enrollments/{enrollment_id}/progress",
                {"lesson": lesson.pk, "completed": True},
                format="json",
            )
        assert answer.status_code == 200, answer.json()


@pytest.fixture
def school(db):
    """Ada teaches a paid course (49.00) and a free one of 2 lessons; Lena bought the paid
    one (with an Idempotency-Key), completed the free one (a certificate) and is signed in
    in a browser; Otto bought the paid one and started the free one."""
    ada = make_instructor(name="Ada Teacherly", email="ada.teacher@example.test")
    paid = make_course(
        title="Compilers", price="49.00", instructor=ada, modules=1, lessons_per_module=2
    )
    free = make_course(title="Parsing", instructor=ada, modules=1, lessons_per_module=2)
    lena, otto = make_user(**LENA), make_user(**OTTO)
    with after_commit():
        bought = enroll(
            client_for(lena),
            {"course": paid.slug, "payment_method": "pm_card_visa"},
            **{"Idempotency-Key": "lena-buys-compilers"},
        )
    assert bought.status_code == 201, bought.json()
    learnt = enroll_as(lena, free)
    complete_all(lena, learnt["id"], free)
    otto_bought = enroll_as(otto, paid, "pm_card_visa")
    otto_learns = enroll_as(otto, free)
    with after_commit():
        client_for(otto).post(
            f"/api/enrollments/{otto_learns['id']}/progress",
            {"lesson": Lesson.objects.filter(module__course=free).first().pk, "completed": True},
            format="json",
        )
    browser = Client(HTTP_USER_AGENT="Firefox on Linux")
    browser.post("/api/auth/login", {"email": lena.email, "password": PASSWORD}, "application/json")
    return {
        "ada": ada,
        "paid": paid,
        "free": free,
        "lena": lena,
        "otto": otto,
        "lena_paid": bought.json()["id"],
        "lena_free": learnt["id"],
        "otto_paid": otto_bought["id"],
        "otto_free": otto_learns["id"],
        "browser": browser,
    }


def export_of(user: User) -> tuple[object, dict]:
    answer = client_for(user).get("/api/me/export")
    assert answer.status_code == 200
    return answer, json.loads(answer.content)


# --- the export -------------------------------------------------------------------------


def test_the_export_holds_the_callers_account_enrollments_payments_and_events(school):
    lena = school["lena"]
    token = token_for(lena)

    answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/me/export")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    assert answer["Content-Disposition"] == (
        f'attachment; filename="learning-portal-export-{lena.pk}.json"'
    )
    body = json.loads(answer.content)
    assert body["account"] | {"date_joined": None} == {
        "id": lena.pk,
        "email": LENA["email"],
        "name": LENA["name"],
        "roles": ["student"],
        "email_verified": True,
        "email_verified_at": body["account"]["email_verified_at"],
        "pending_email": None,
        "date_joined": None,
        "last_login": body["account"]["last_login"],
    }
    (student,) = body["students"]
    assert student["email"] == LENA["email"]
    by_id = {enrollment["id"]: enrollment for enrollment in body["enrollments"]}
    assert set(by_id) == {school["lena_paid"], school["lena_free"]}

    paid = by_id[school["lena_paid"]]
    assert paid["course"] == {"slug": school["paid"].slug, "title": "Compilers"}
    assert paid["status"] == "active"
    assert paid["payment"]["amount"] == "49.00"
    assert paid["payment"]["currency"] == "usd"
    assert paid["payment"]["status"] == "succeeded"
    assert [call["kind"] for call in paid["payment"]["calls"]][:1] == ["charge"]
    assert "idempotency_key" not in paid["payment"]["calls"][0]
    receipt = Receipt.objects.get(enrollment_id=school["lena_paid"])
    assert paid["receipt"]["number"] == receipt.number
    assert (paid["receipt"]["amount"], paid["receipt"]["student_email"]) == ("49.00", LENA["email"])

    free = by_id[school["lena_free"]]
    assert free["status"] == "completed"
    assert free["payment"] is None and free["receipt"] is None  # a free course: no sale
    certificate = Certificate.objects.get(enrollment_id=school["lena_free"])
    assert free["certificate"]["code"] == certificate.code
    assert free["certificate"]["student_name"] == LENA["name"]
    assert [row["completed"] for row in free["progress"]] == [True, True]

    events = body["events"]
    assert [event["seq"] for event in events] == sorted(event["seq"] for event in events)
    assert len(events) == UserEvent.objects.filter(user=lena).count() > 0
    assert {"enrollment.status", "progress.updated", "enrollment.completed"} <= {
        event["type"] for event in events
    }
    assert all(event["payload"] is not None for event in events)  # all about her own

    assert [key["key"] for key in body["idempotency_keys"]] == ["lena-buys-compilers"]
    assert [session["user_agent"] for session in body["sessions"]] == ["Firefox on Linux"]
    row = AuthToken.objects.get(user=lena, prefix=token[:8])
    assert f"t{row.pk}" in {item["id"] for item in body["tokens"]}
    text = answer.content.decode()
    assert token not in text and row.key_hash not in text  # never a secret


def test_the_export_holds_nothing_of_another_person(school):
    _, body = export_of(school["lena"])
    text = json.dumps(body)

    otto = school["otto"]
    for theirs in (OTTO["email"], OTTO["name"]):
        assert theirs not in text
    for enrollment in Enrollment.objects.filter(student__user=otto):
        assert enrollment.number not in text
    assert Receipt.objects.get(enrollment_id=school["otto_paid"]).number not in text
    their_ids = {school["otto_paid"], school["otto_free"]}
    assert not their_ids & {enrollment["id"] for enrollment in body["enrollments"]}
    assert Student.objects.get(user=otto).pk not in {student["id"] for student in body["students"]}
    assert otto.pk != body["account"]["id"]
    their_payload_ids = {
        event["payload"]["enrollment"]["id"]
        if isinstance(event["payload"]["enrollment"], dict)
        else event["payload"]["enrollment"]
        for event in body["events"]
        if event["payload"] and "enrollment" in event["payload"]
    }
    assert not their_ids & their_payload_ids


def test_a_teachers_export_lists_courses_announcements_coupons_but_not_the_students(school):
    ada = school["ada"]
    announcement_create(course=school["paid"], author=ada, subject="Welcome", body="Hello all")
    Coupon.objects.create(code="ADA10", course=school["paid"], percent_off=10, created_by=ada)

    _, body = export_of(ada)

    assert {item["course"]["slug"] for item in body["courses_taught"]} == {
        school["paid"].slug,
        school["free"].slug,
    }
    assert [(a["subject"], a["body"]) for a in body["announcements"]] == [("Welcome", "Hello all")]
    assert [(c["code"], c["percent_off"]) for c in body["coupons_created"]] == [("ADA10", 10)]
    # She was told of each enrollment; those events are the students' data, listed bare.
    created = [event for event in body["events"] if event["type"] == "enrollment.created"]
    assert len(created) == 4
    assert all(event["payload"] is None for event in created)
    text = json.dumps(body)
    for person in (LENA, OTTO):
        assert person["email"] not in text and person["name"] not in text


@pytest.mark.django_db
def test_the_export_needs_a_signed_in_caller_and_is_rate_limited(rate_limits, settings, api):
    settings.RATE_LIMITS = {**rate_limits, "account_export": (2, 3600)}
    user = make_user()
    client = client_for(user)

    assert api.get("/api/me/export").status_code == 401
    statuses = [client.get("/api/me/export").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# --- erasure ----------------------------------------------------------------------------


def rows_mentioning(*needles: str) -> list[str]:
    """Every row of every table of the database whose JSON text contains one of the
    needles (case-insensitively)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            for (text,) in cursor.fetchall():
                if any(needle.lower() in text.lower() for needle in needles):
                    found.append(f"{table}: {text[:300]}")
    return found


def test_a_wrong_password_erases_nothing(school):
    lena = school["lena"]

    answer = client_for(lena).delete("/api/me", {"password": "not-it"}, format="json")

    assert answer.status_code == 400
    assert list(answer.json()["error"]["fields"]) == ["password"]
    assert User.objects.filter(pk=lena.pk).exists()
    assert Student.objects.get(user=lena).email == LENA["email"]


def test_a_teacher_must_hand_the_courses_over_first(school):
    ada = school["ada"]

    answer = client_for(ada).delete("/api/me", {"password": PASSWORD}, format="json")

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "teaches_courses"
    assert "Compilers" in error["message"] and "Hand each course over" in error["message"]
    assert User.objects.filter(pk=ada.pk).exists()


def test_erasure_keeps_the_sales_and_leaves_no_personal_data(school):
    lena, browser = school["lena"], school["browser"]
    student = Student.objects.get(user=lena)
    sold = Payment.objects.get(enrollment_id=school["lena_paid"])
    assert rows_mentioning(LENA["email"], LENA["name"])  # the search finds what is there

    with after_commit():
        answer = browser.delete("/api/me", {"password": PASSWORD}, "application/json")

    assert answer.status_code == 204
    assert rows_mentioning(LENA["email"], LENA["name"]) == []
    assert not User.objects.filter(pk=lena.pk).exists()
    student.refresh_from_db()
    placeholder = f"deleted-{student.pk}@invalid"
    assert (student.name, student.email, student.user_id) == ("Deleted user", placeholder, None)
    # Kept for accounting: the enrollments, the payment and its amount, receipt, certificate.
    assert set(Enrollment.objects.filter(student=student).values_list("pk", flat=True)) == {
        school["lena_paid"],
        school["lena_free"],
    }
    sold.refresh_from_db()
    assert (sold.amount, sold.status) == (Decimal("49.00"), "succeeded")
    assert sold.calls.exists()
    receipt = Receipt.objects.get(enrollment_id=school["lena_paid"])
    assert (receipt.amount, receipt.student_name, receipt.student_email) == (
        Decimal("49.00"),
        "Deleted user",
        placeholder,
    )
    assert Certificate.objects.get(enrollment_id=school["lena_free"]).student_name == "Deleted user"
    # Gone: her sign-ins, her event log, her Idempotency-Keys.
    assert not UserSession.objects.filter(user_id=lena.pk).exists()
    assert not AuthToken.objects.filter(user_id=lena.pk).exists()
    assert not UserEvent.objects.filter(user_id=lena.pk).exists()
    assert not IdempotencyKey.objects.filter(scope=f"user:{lena.pk}").exists()
    # The teacher's events about her enrollments name nobody now.
    told = UserEvent.objects.filter(user=school["ada"], payload__enrollment__id=school["lena_paid"])
    assert told.exists()
    assert all(event.payload["enrollment"]["student"]["name"] == "Deleted user" for event in told)
    # The browser is signed out, its cookie cleared.
    assert answer.cookies["sessionid"].value == ""
    assert browser.get("/api/me").status_code == 401
    # Otto is untouched.
    assert Receipt.objects.get(enrollment_id=school["otto_paid"]).student_email == OTTO["email"]
    assert rows_mentioning(OTTO["email"])


def test_an_erased_students_record_gets_no_announcement(school):
    with after_commit():
        school["browser"].delete("/api/me", {"password": PASSWORD}, "application/json")

    announcement = announcement_create(
        course=school["paid"], author=school["ada"], subject="News", body="Hello"
    )

    assert announcement.recipients == 1  # Otto only


@pytest.mark.django_db
def test_a_former_teachers_announcements_stay_without_an_author():
    former = make_instructor(name="Former Teacher", email="former@example.test")
    course = make_course(instructor=former)
    announcement = announcement_create(course=course, author=former, subject="Hi", body="Bye")
    CourseInstructor.objects.filter(user=former).delete()  # handed over

    answer = client_for(former).delete("/api/me", {"password": PASSWORD}, format="json")

    assert answer.status_code == 204
    announcement.refresh_from_db()
    assert announcement.author_id is None
    assert Announcement.objects.filter(course=course).count() == 1
    assert rows_mentioning("former@example.test") == []


# --- against a running server: its sockets close, its cookie is dead ---------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.live
async def test_erasure_closes_the_accounts_sockets_and_its_cookie_stops_working(server):
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(token_for)(user)
    browser = await asyncio.to_thread(Browser(server).sign_in, user.email)
    session_socket, hello = await open_ws(server, browser=browser)
    token_socket, _ = await open_ws(server, token=token)
    assert hello["user"]["id"] == user.pk

    old_key = browser.cookie("sessionid")

    status, _ = await asyncio.to_thread(browser.call, "DELETE", "/api/me", {"password": PASSWORD})

    assert status == 204
    assert await close_code(session_socket) == 4401
    assert await close_code(token_socket) == 4401
    assert (await asyncio.to_thread(token_call, server, token, "GET", "/api/me"))[0] == 401
    # The old cookie, sent again as it was (the answer cleared it), signs nobody in.
    assert browser.cookie("sessionid") == ""
    assert (await asyncio.to_thread(cookie_call, server, old_key, "GET", "/api/me"))[0] == 401
    assert not await database_sync_to_async(User.objects.filter(pk=user.pk).exists)()
