"""Idempotency-Keys are scoped per caller: guests by their address and the student email
of the body, so one guest's key is no other guest's replay or conflict."""

import pytest
from django.test import Client

from enrollment.models import Enrollment, Payment
from tests.conftest import client_for
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course, make_user

pytestmark = pytest.mark.django_db
KEY = {"Idempotency-Key": "0d6c3c8e-1111-4c1e-9a43-shared-by-accident"}


def test_two_guests_with_the_same_key_each_get_their_own_enrollment():
    course = make_course(price="49.00", capacity=5)
    same_network = "10.6.0.1"  # e.g. a classroom behind one NAT

    ada = enroll(Client(REMOTE_ADDR=same_network), guest_body(course, "ada@example.com"), **KEY)
    bob = enroll(Client(REMOTE_ADDR=same_network), guest_body(course, "bob@example.com"), **KEY)

    assert (ada.status_code, bob.status_code) == (201, 201), bob.json()
    assert "Idempotent-Replayed" not in bob.headers
    assert bob.json()["student"]["email"] == "bob@example.com"
    assert ada.json()["id"] != bob.json()["id"]
    assert Payment.objects.count() == 2


def test_a_guests_retry_replays_their_answer():
    course = make_course(price="49.00", capacity=5)
    body = guest_body(course, "ada@example.com")

    first = enroll(Client(REMOTE_ADDR="10.6.0.2"), body, **KEY)
    retry = enroll(Client(REMOTE_ADDR="10.6.0.2"), body, **KEY)

    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Payment.objects.count() == 1


def test_someone_elsewhere_replaying_a_guests_body_and_key_gets_no_copy_of_the_answer():
    course = make_course(price="49.00", capacity=5)
    body = guest_body(course, "ada@example.com")
    first = enroll(Client(REMOTE_ADDR="10.6.0.3"), body, **KEY)
    assert first.status_code == 201

    copy = enroll(Client(REMOTE_ADDR="10.9.9.9"), body, **KEY)

    # Another client is another guest checkout (nothing of the first is read or told):
    # its own purchase, not a replay of the first answer.
    assert "Idempotent-Replayed" not in copy.headers
    assert copy.status_code == 201 and copy.json()["id"] != first.json()["id"]
    assert copy.json()["student"]["id"] != first.json()["student"]["id"]
    assert Enrollment.objects.count() == 2 and Payment.objects.count() == 2


def test_a_signed_in_users_key_is_theirs_alone():
    course = make_course(price="49.00", capacity=5)
    first, second = make_user(), make_user()
    body = {"course": course.slug, "payment_method": "pm_card_visa"}

    mine = enroll(client_for(first), body, **KEY)
    theirs = enroll(client_for(second), body, **KEY)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
