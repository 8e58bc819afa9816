"""The enrollment admin: statuses are read-only; refund / cancel / activate run the API's
services on each selected row and report each row's outcome."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from enrollment.models import Enrollment, Payment
from tests.enrollment.helpers import after_commit, enroll_as
from tests.factories import make_course, make_user
from tests.instructor.helpers import make_enrollment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def act(admin, action: str, *enrollments: Enrollment) -> list[str]:
    with after_commit():
        answer = admin.post(
            "/admin/enrollment/enrollment/",
            {"action": action, "_selected_action": [e.pk for e in enrollments]},
        )
    assert answer.status_code == 302
    return [str(m) for m in get_messages(answer.wsgi_request)]


def test_status_fields_are_read_only(admin):
    enrollment = make_enrollment(make_course(), amount="5.00")
    page = admin.get(f"/admin/enrollment/enrollment/{enrollment.pk}/change/").content.decode()
    assert 'name="status"' not in page and "Active" in page
    payment = Payment.objects.get(enrollment=enrollment)
    page = admin.get(f"/admin/enrollment/payment/{payment.pk}/change/").content.decode()
    assert 'name="status"' not in page and 'name="amount"' in page


def test_refund_goes_through_the_gateway_and_reports_each_row(admin, student):
    course = make_course(price="20.00", capacity=5)
    paid = enroll_as(student, course, payment_method="pm_card_visa")
    free = make_enrollment(make_course())
    messages = act(admin, "refund", Enrollment.objects.get(pk=paid["id"]), free)
    refunded = Enrollment.objects.get(pk=paid["id"])
    assert refunded.status == "refunded"
    assert Payment.objects.get(enrollment=refunded).status == "refunded"
    course.refresh_from_db()
    assert course.seats_taken == 0
    assert f"{refunded.number} refunded." in messages
    assert f"{free.number}: No succeeded payment to refund." in messages


def test_cancel_frees_unpaid_ones_and_refuses_paid_and_completed(admin, student):
    free_course = make_course(capacity=3)
    answer = enroll_as(student, free_course)
    free = Enrollment.objects.get(pk=answer["id"])
    paid = make_enrollment(make_course(price="9.00"), amount="9.00")
    done = make_enrollment(make_course(), status="completed")
    messages = act(admin, "cancel", free, paid, done)
    assert Enrollment.objects.get(pk=free.pk).status == "cancelled"
    free_course.refresh_from_db()
    assert free_course.seats_taken == 0
    assert Enrollment.objects.get(pk=paid.pk).status == "active"
    assert Enrollment.objects.get(pk=done.pk).status == "completed"
    assert f"{free.number} cancelled." in messages
    assert any(m.startswith(f"{paid.number}: Paid") for m in messages)
    assert f"{done.number}: A completed enrollment cannot be cancelled." in messages


def test_activate_finishes_pending_free_ones_only(admin):
    pending = make_enrollment(make_course(), status="pending", activated=False)
    active = make_enrollment(make_course())
    messages = act(admin, "activate", pending, active)
    pending.refresh_from_db()
    assert pending.status == "active" and pending.activated_at is not None
    assert f"{pending.number} activated." in messages
    assert f"{active.number}: Not pending (active): nothing to activate." in messages
