"""A full course's waitlist in Chromium: two waiting students in two browser contexts
join from the course page, see their places live, the first gets the freed seat as an
offer with a countdown and enrolls with it (paying, on the test gateway), the second
moves up; an offer left to run out passes on; the instructor's dashboard shows the line
live and raising the capacity makes offers at once. axe finds nothing in any state."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog import waitlist
from catalog.models import WaitlistEntry
from enrollment import services
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, in_thread, screenshot, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_instructor, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APOSTROPHE = "\u2019"  # the page's typographic apostrophe
NEXT_IN_LINE = f"You{APOSTROPHE}re next in line."


def in_line(position: int) -> str:
    return f"You{APOSTROPHE}re #{position} in line."


def join_label(position: int) -> str:
    return f"Join the waitlist — you{APOSTROPHE}d be #{position}"


def full_course(capacity: int = 1, price: str = "49.00"):
    """A course whose seats are all taken by Ada; (course, Ada's enrollments)."""
    instructor = make_instructor(email="ivy@example.com", name="Ivy Instructor")
    course = make_course(
        title="Distributed Systems",
        slug="distsys",
        price=price,
        capacity=capacity,
        instructor=instructor,
    )
    taken = []
    for index in range(capacity):
        ada = make_user(email=f"ada{index}@example.com", name=f"Ada {index}")
        taken.append(
            services.enrollment_create(
                course=course, student=None, user=ada, payment_method="pm_card_visa"
            )
        )
    return course, taken


def waiting_student(new_page, email: str, name: str):
    make_user(email=email, name=name)
    page = new_page()
    sign_in(page, email, PASSWORD, next_path="/courses/distsys")
    wait_live(page)
    return page


def test_two_waiting_students_one_gets_the_offer_and_enrolls_the_other_moves_up(new_page):
    course, (ada_enrollment,) = in_thread(full_course)
    bo = waiting_student(new_page, "bo@example.com", "Bo Waiting")
    panel = bo.locator("#waitlist")
    expect(panel).to_contain_text("This course is full.")
    expect(bo.locator("#enroll-form")).to_be_hidden()
    join = bo.get_by_role("button", name=join_label(1))
    expect(join).to_be_visible()
    check_both_widths(bo, "waitlist-join")

    join.click()
    expect(bo.locator("#waitlist-place")).to_have_text(NEXT_IN_LINE)

    cy = waiting_student(new_page, "cy@example.com", "Cy Waiting")
    cy.get_by_role("button", name=join_label(2)).click()
    expect(cy.locator("#waitlist-place")).to_have_text(in_line(2))
    expect(bo.locator("#waitlist")).to_contain_text("2 people are waiting.")
    check_both_widths(cy, "waitlist-place")

    # Ada cancels (refunded): the seat is offered to Bo at once; Cy moves up live.
    in_thread(lambda: services.enrollment_cancel(enrollment=ada_enrollment))
    expect(panel).to_contain_text("A seat is yours")
    expect(bo.locator("#offer-line")).to_have_text(
        re.compile(r"Your seat is held for 1[45]:\d\d\.")
    )
    expect(cy.locator("#waitlist-place")).to_have_text(NEXT_IN_LINE)
    submit = bo.locator("#enroll-submit")
    expect(submit).to_have_text("Take your seat · $49.00")
    expect(submit).to_be_enabled()
    check_both_widths(bo, "waitlist-offer")

    bo.get_by_role("radio", name=re.compile("Visa")).check()
    submit.click()
    expect(bo.locator("#enroll-result")).to_have_attribute("data-status", "active")
    expect(panel).to_be_hidden()
    expect(bo.get_by_role("link", name="Start learning")).to_be_visible()
    screenshot(bo, "waitlist-enrolled")
    assert_accessible(bo)
    # The offer's seat was used: no stranger got it, Cy still waits first in line.
    assert WaitlistEntry.objects.get(user__email="bo@example.com").status == "enrolled"
    expect(cy.locator("#waitlist-place")).to_have_text(NEXT_IN_LINE)
    assert course.__class__.objects.get(pk=course.pk).seats_taken == 1


def test_an_offer_left_to_run_out_passes_to_the_next_in_line(new_page):
    _, (ada_enrollment,) = in_thread(lambda: full_course(price="0.00"))
    bo = waiting_student(new_page, "bo@example.com", "Bo Waiting")
    bo.get_by_role("button", name=re.compile("Join the waitlist")).click()
    cy = waiting_student(new_page, "cy@example.com", "Cy Waiting")
    cy.get_by_role("button", name=re.compile("Join the waitlist")).click()
    expect(cy.locator("#waitlist-place")).to_have_text(in_line(2))
    in_thread(lambda: services.enrollment_cancel(enrollment=ada_enrollment))
    expect(bo.locator("#waitlist")).to_contain_text("A seat is yours")

    def run_out() -> None:
        WaitlistEntry.objects.filter(user__email="bo@example.com").update(
            offer_expires_at=timezone.now() - timedelta(seconds=1)
        )
        waitlist.offers_expire()

    in_thread(run_out)
    expect(bo.locator("#waitlist")).to_contain_text("Your seat offer ran out.")
    expect(bo.locator("#enroll-form")).to_be_hidden()
    expect(cy.locator("#waitlist")).to_contain_text("A seat is yours")
    check_both_widths(bo, "waitlist-lapsed")
    # Cy takes the free course's seat with the offer.
    submit = cy.locator("#enroll-submit")
    expect(submit).to_have_text("Take your seat · Free")
    submit.click()
    expect(cy.locator("#enroll-result")).to_have_attribute("data-status", "active")


def test_leaving_the_line_moves_the_next_up(new_page):
    in_thread(lambda: full_course(price="0.00"))
    bo = waiting_student(new_page, "bo@example.com", "Bo Waiting")
    bo.get_by_role("button", name=re.compile("Join the waitlist")).click()
    cy = waiting_student(new_page, "cy@example.com", "Cy Waiting")
    cy.get_by_role("button", name=re.compile("Join the waitlist")).click()
    expect(cy.locator("#waitlist-place")).to_have_text(in_line(2))
    bo.get_by_role("button", name="Leave the waitlist").click()
    expect(bo.get_by_role("button", name=re.compile("Join the waitlist"))).to_be_visible()
    expect(cy.locator("#waitlist-place")).to_have_text(NEXT_IN_LINE)


def test_the_instructor_sees_the_line_live_and_raising_capacity_makes_offers(new_page, console):
    console.allow("status of 400")  # the capacity below the seats taken, tried last
    in_thread(lambda: full_course(capacity=2))
    ivy = new_page()
    sign_in(ivy, "ivy@example.com", PASSWORD, next_path="/instructor")
    wait_live(ivy)
    board = ivy.locator("#seats-board")
    expect(board.locator('[data-seats="distsys"]')).to_have_text("2 / 2")
    expect(board.locator('[data-line="distsys"]')).to_have_text("0 waiting")

    bo = waiting_student(new_page, "bo@example.com", "Bo Waiting")
    bo.get_by_role("button", name=re.compile("Join the waitlist")).click()
    expect(board.locator('[data-line="distsys"]')).to_have_text("1 waiting")
    check_both_widths(ivy, "instructor-seats-board")

    field = ivy.get_by_label("Capacity of Distributed Systems")
    field.fill("3")
    ivy.locator('[data-capacity="distsys"]').get_by_role("button", name="Save").click()
    expect(board.locator('[data-seats="distsys"]')).to_have_text("3 / 3")
    expect(board.locator('[data-line="distsys"]')).to_have_text("0 waiting · 1 offer held")
    expect(bo.locator("#waitlist")).to_contain_text("A seat is yours")
    assert_accessible(ivy)

    # A capacity below the seats taken is refused with the field's error.
    field.fill("1")
    ivy.locator('[data-capacity="distsys"]').get_by_role("button", name="Save").click()
    expect(ivy.locator("#capacity-distsys-error")).to_be_visible()
    assert_accessible(ivy)


def test_my_learning_lists_the_waitlists_and_an_offer_live(new_page):
    course, (ada_enrollment,) = in_thread(full_course)
    in_thread(
        lambda: waitlist.waitlist_join(
            course=course, user=make_user(email="bo@example.com", name="Bo Waiting")
        )
    )
    bo = new_page()
    sign_in(bo, "bo@example.com", PASSWORD, next_path="/dashboard")
    wait_live(bo)
    section = bo.locator("#my-waitlists")
    expect(section).to_contain_text("Distributed Systems")
    expect(section).to_contain_text(NEXT_IN_LINE)

    in_thread(lambda: services.enrollment_cancel(enrollment=ada_enrollment))
    expect(section).to_contain_text("A seat is held for you for 1")
    take = section.get_by_role("link", name="Take your seat")
    check_both_widths(bo, "dashboard-waitlists")
    take.click()
    bo.wait_for_url(re.compile(r"/courses/distsys$"))
    expect(bo.locator("#waitlist")).to_contain_text("A seat is yours")
