"""Receipts: one per paid enrollment, issued in the transaction that activates it (names,
title and amount copied in), emailed once on the `emails` queue, read through
GET /api/enrollments/{id}/receipt by whoever may read the enrollment."""

import re

import pytest
from django.core import mail
from django.test import Client

from enrollment import followups, transitions
from enrollment.models import Enrollment, Payment, Receipt
from portal.jobs.models import JobRun
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit, enroll, enroll_as, guest_body
from tests.enrollment.helpers import sale as make_sale
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db

RECEIPT_KEYS = {"number", "issued_at", "amount", "currency", "coupon", "course", "student"}


@pytest.fixture
def sale():
    return make_sale()


def receipts_mailed_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address] and m.subject.startswith("Your receipt")]


def test_a_paid_enrollment_gets_its_receipt_and_one_email(sale):
    receipt = Receipt.objects.get(enrollment_id=sale["id"])
    assert re.fullmatch(r"RCT-\d{4}-\d{6}", receipt.number)
    assert (receipt.amount, receipt.course_title, receipt.student_email) == (
        49,
        "Compilers",
        "buyer@example.com",
    )
    [message] = receipts_mailed_to("buyer@example.com")
    assert message.subject == f"Your receipt {receipt.number} for Compilers"
    assert receipt.number in message.body and "49.00" in message.body
    assert f"/receipts/{receipt.number}" in message.body
    receipt.refresh_from_db()
    assert receipt.emailed_at is not None


def test_the_api_answers_the_receipt_as_it_was_issued(sale):
    sale["course"].title = "Compilers, second edition"
    sale["course"].save()
    body = client_for(sale["buyer"]).get(f"/api/enrollments/{sale['id']}/receipt").json()

    receipt = Receipt.objects.get()
    assert set(body) == RECEIPT_KEYS
    assert body == {
        "number": receipt.number,
        "issued_at": receipt.issued_at.isoformat().replace("+00:00", "Z"),
        "amount": "49.00",
        "currency": sale["course"].currency,
        "coupon": None,
        "course": {"slug": sale["course"].slug, "title": "Compilers"},
        "student": {"name": "Bea Buyer", "email": "buyer@example.com"},
    }


def test_who_may_read_a_receipt(sale):
    path = f"/api/enrollments/{sale['id']}/receipt"
    assert client_for(sale["teacher"]).get(path).status_code == 200
    assert client_for(make_user(is_staff=True)).get(path).status_code == 200
    assert client_for(make_user()).get(path).status_code == 404  # never reveals it exists
    assert client_for(make_instructor()).get(path).status_code == 404
    assert Client().get(path).status_code == 401


def test_a_free_enrollment_has_no_receipt():
    student = make_user()
    answer = enroll_as(student, make_course(price="0.00"))

    response = client_for(student).get(f"/api/enrollments/{answer['id']}/receipt")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not Receipt.objects.exists() and not receipts_mailed_to(student.email)


def test_a_declined_card_leaves_no_receipt():
    course = make_course(price="20.00")
    body = guest_body(course, "declined@example.com", "pm_card_chargeDeclined")
    assert enroll(Client(), body).status_code == 402
    assert not Receipt.objects.exists() and not receipts_mailed_to("declined@example.com")


def test_a_second_activation_issues_no_second_receipt_and_the_job_mails_once(sale):
    enrollment = Enrollment.objects.get(pk=sale["id"])
    Enrollment.objects.filter(pk=enrollment.pk).update(status="pending")
    Payment.objects.filter(enrollment=enrollment).update(status="pending")
    with after_commit():
        transitions.activate(enrollment_id=enrollment.pk)

    assert Receipt.objects.count() == 1
    assert followups.receipt_email_send(enrollment_id=enrollment.pk) == "skipped"
    assert len(receipts_mailed_to("buyer@example.com")) == 1


def test_a_mail_server_failure_leaves_the_receipt_owed(sale, monkeypatch):
    # As if the job had not run yet.
    Receipt.objects.update(emailed_at=None)
    JobRun.objects.filter(key__startswith="enrollment.receipt_emailed_at:").delete()
    mail.outbox.clear()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(ConnectionRefusedError):
        followups.receipt_email_send(enrollment_id=sale["id"])
    assert Receipt.objects.get().emailed_at is None  # the retry sends it
    monkeypatch.undo()

    assert followups.receipt_email_send(enrollment_id=sale["id"]) == "sent"
    assert len(receipts_mailed_to("buyer@example.com")) == 1
