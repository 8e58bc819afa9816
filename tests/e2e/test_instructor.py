"""The instructor dashboard: revenue that matches the payments, the chart drawn from the
aggregate endpoint, the roster downloaded as CSV through its link, an announcement sent;
accessible at desktop and phone widths."""

import csv
import io

import pytest
from playwright.sync_api import expect

from enrollment import services
from instructor.models import Announcement
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    check_both_widths,
    in_thread,
    screenshot,
    sign_in,
    wait_live,
)
from tests.e2e.data import enroll_guest
from tests.factories import PASSWORD, make_course, make_instructor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def teaching():
    grace = make_instructor(email="grace@example.com", name="Grace Hopper")
    paid = make_course(title="Compilers", slug="compilers", price="49.00", instructor=grace)
    free = make_course(title="A Free Primer", slug="free-primer", instructor=grace)
    make_course(title="Someone Else's", slug="someone-elses", price="99.00")
    guests = [
        enroll_guest(paid, f"guest{n}@example.com", name, "pm_card_visa")
        for n, name in enumerate(["Ada Lovelace", "=cmd|' /C calc'!A0", "Alan Turing"])
    ]
    in_thread(lambda: services.enrollment_cancel(enrollment=guests[2]))  # refunded
    enroll_guest(free, "katherine@example.com", "Katherine Johnson")
    return {"paid": paid, "free": free}


def test_revenue_chart_roster_and_announcement(new_page, teaching):
    page = new_page(PHONE)  # used on a phone; looked at on both (check_both_widths)
    # One navigation, the dashboard's own: a second one could take the page away before the
    # first load's answer was read (its body is gone then).
    with page.expect_response(lambda r: "/api/instructor/enrollments-per-hour" in r.url) as hourly:
        sign_in(page, "grace@example.com", PASSWORD, next_path="/instructor")
    buckets = hourly.value.json()["buckets"]
    wait_live(page)

    # Revenue: three payments of 49.00, one refunded; the free course's one enrollment.
    compilers = page.locator('#revenue tr[data-course="compilers"]')
    expect(compilers.locator("td")).to_have_text(
        ["3", "2", "0", "$147.00", "$49.00", "$98.00", "Export roster (CSV)Email students"]
    )
    expect(page.locator('#revenue tr[data-course="free-primer"] td').first).to_have_text("1")
    expect(page.locator("#revenue tbody tr")).to_have_count(2)  # not someone else's
    expect(page.locator('#revenue tfoot tr[data-total="usd"] td').nth(5)).to_have_text("$98.00")
    expect(page.locator("#stat-net")).to_have_text("$98.00")

    # The chart: one bar per bucket the endpoint answered, the busy ones drawn as such.
    assert len(buckets) == 24
    assert sum(bucket["count"] for bucket in buckets) == 4
    expect(page.locator("#chart rect")).to_have_count(24)
    expect(page.locator("#chart rect:not(.empty)")).to_have_count(
        sum(1 for bucket in buckets if bucket["count"])
    )
    expect(page.locator("#stat-day")).to_have_text("4")

    # The roster, downloaded through its link.
    with page.expect_download() as download:
        compilers.get_by_role("link", name="Export roster of Compilers (CSV)").click()
    assert download.value.suggested_filename == "compilers-roster.csv"
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["student_name"] for row in rows] == [
        "Ada Lovelace",
        "'=cmd|' /C calc'!A0",
        "Alan Turing",
    ]
    assert [row["status"] for row in rows] == ["active", "active", "refunded"]
    assert {row["total_lessons"] for row in rows} == {"0"}

    # An announcement to the course's two active students.
    compilers.get_by_role("button", name="Email students of Compilers").click()
    expect(page.locator("#announce-subject")).to_be_focused()
    expect(page.locator("#announce-course")).to_have_value("compilers")
    page.click("#announce-send")  # empty: explained, nothing sent
    expect(page.locator("#error-subject")).to_have_text("Write a subject.")
    page.fill("#announce-subject", "Office hours moved")
    page.fill("#announce-body", "Thursday 15:00 instead of Wednesday.")
    page.click("#announce-send")
    expect(page.locator("#announce-status")).to_have_text("Queued for 2 students.")
    announcement = Announcement.objects.get()
    assert (announcement.subject, announcement.recipients) == ("Office hours moved", 2)

    check_both_widths(page, "instructor-tools")


def test_the_unsubscribe_page_is_accessible(new_page, teaching):
    from enrollment.models import Student
    from instructor.unsubscribe import unsubscribe_token

    ada = Student.objects.get(email="guest0@example.com")
    token = unsubscribe_token(student_id=ada.pk, course_id=teaching["paid"].pk)
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        page.goto(f"/unsubscribe/{token}")
        expect(page.locator("h1")).to_have_text("Stop announcements from Compilers?")
        screenshot(page, "unsubscribe")
        assert_accessible(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    screenshot(page, "unsubscribed")
    assert_accessible(page)
