"""The receipt page /receipts/{number}: its buyer (and the course's instructors, staff)
read it signed in; visitors are asked to sign in; anyone else gets the same 404 page
whether the receipt exists or not. /enrollments/{id}/receipt (the dashboard's link) leads
to it."""

import pytest
from django.test import Client

from tests.enrollment.helpers import enroll_as
from tests.enrollment.helpers import sale as make_sale
from tests.factories import make_course, make_user


def client_for(user) -> Client:
    """A browser signed in with a session (pages do not take bearer tokens)."""
    client = Client()
    client.force_login(user)
    return client


pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    return make_sale("Compilers <3")


def page(client, path):
    response = client.get(path)
    return response.status_code, response.content.decode()


def test_the_buyer_reads_their_receipt(sale):
    number = sale["receipt"].number
    status, html = page(client_for(sale["buyer"]), f"/receipts/{number}")

    assert status == 200
    assert f'Receipt <span id="receipt-number" class="receipt-number">{number}</span>' in html
    assert "49.00" in html and "Bea Buyer" in html and "buyer@example.com" in html
    assert "Compilers &lt;3" in html and "Compilers <3" not in html  # escaped


def test_who_sees_it(sale):
    path = f"/receipts/{sale['receipt'].number}"
    assert page(client_for(sale["teacher"]), path)[0] == 200
    assert page(client_for(make_user(is_staff=True)), path)[0] == 200
    stranger = client_for(make_user())
    other_status, other_html = page(stranger, path)
    missing_status, missing_html = page(stranger, "/receipts/RCT-2026-999999")
    assert other_status == missing_status == 404
    assert "Receipt not found" in other_html and "Bea Buyer" not in other_html
    assert other_html.replace(path[10:], "") == missing_html.replace("RCT-2026-999999", "")
    visitor_status, visitor_html = page(Client(), path)
    assert visitor_status == 200 and "/signin?next=" in visitor_html
    assert "Bea Buyer" not in visitor_html


def test_a_number_that_cannot_be_one_is_a_404_page_before_any_query(sale):
    for number in ["RCT-2026-0001%00", "x" * 500, "RCT-20-1"]:
        assert page(client_for(sale["buyer"]), f"/receipts/{number}")[0] == 404


def test_the_dashboard_link_leads_to_the_receipt(sale):
    response = client_for(sale["buyer"]).get(f"/enrollments/{sale['id']}/receipt")
    assert response.status_code == 302
    assert response["Location"] == f"/receipts/{sale['receipt'].number}"
    free = enroll_as(sale["buyer"], make_course(price="0.00"))
    assert client_for(sale["buyer"]).get(f"/enrollments/{free['id']}/receipt").status_code == 404
    assert client_for(make_user()).get(f"/enrollments/{sale['id']}/receipt").status_code == 404


def test_staff_see_receipts_in_the_admin_and_cannot_change_them(sale):
    receipt = sale["receipt"]
    client = client_for(make_user(is_staff=True, is_superuser=True))

    found = client.get("/admin/enrollment/receipt/", {"q": "buyer@example.com"})
    assert found.status_code == 200 and receipt.number in found.content.decode()
    page = client.get(f"/admin/enrollment/receipt/{receipt.pk}/change/")
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()  # read-only
    assert client.get("/admin/enrollment/receipt/add/").status_code == 403
    assert client.get(f"/admin/enrollment/receipt/{receipt.pk}/delete/").status_code == 403
