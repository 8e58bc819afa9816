"""Live course presence in the browser: two signed-in learners open the same course page;
each sees the other there, and the instructor's dashboard shows two learners viewing the
course, then one when a learner leaves. Accessible (axe) in each of those states."""

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene():
    grace = make_instructor(email="grace@example.com", name="Grace Hopper")
    course = make_course(
        title="Distributed Systems", slug="distributed-systems", instructor=grace, modules=1
    )
    make_course(title="Quiet Course", slug="quiet-course", instructor=grace)
    make_user(email="ada@example.com", name="Ada Lovelace")
    make_user(email="alan@example.com", name="Alan Turing")
    return course


def test_two_learners_on_a_course_page_show_on_the_instructors_dashboard(new_page, scene):
    dashboard = new_page()
    sign_in(dashboard, "grace@example.com", PASSWORD, next_path="/instructor")
    wait_live(dashboard)
    badge = dashboard.locator('#revenue [data-viewing="distributed-systems"]')
    expect(dashboard.locator('#revenue tr[data-course="distributed-systems"]')).to_be_visible()
    expect(badge).to_be_hidden()  # nobody there yet

    ada = new_page()
    sign_in(ada, "ada@example.com", PASSWORD, next_path="/courses/distributed-systems")
    wait_live(ada)
    expect(badge).to_have_text("1 learner viewing now")
    # Alone on the page: nothing to say to Ada.
    expect(ada.locator("#presence")).to_have_text("")

    alan = new_page()
    sign_in(alan, "alan@example.com", PASSWORD, next_path="/courses/distributed-systems")
    wait_live(alan)
    expect(badge).to_have_text("2 learners viewing now")
    expect(alan.locator("#presence")).to_have_text("You and 1 other learner are here now")
    expect(alan.locator("#presence")).to_have_attribute("role", "status")
    expect(ada.locator("#presence")).to_have_text("You and 1 other learner are here now")
    # The other course has nobody.
    expect(dashboard.locator('#revenue [data-viewing="quiet-course"]')).to_be_hidden()
    check_both_widths(alan, "course-presence")
    check_both_widths(dashboard, "instructor-presence")

    # The instructor on the course's own page is told, not counted.
    author = new_page(context=dashboard.context)
    author.goto("/courses/distributed-systems")
    wait_live(author)
    expect(author.locator("#presence")).to_have_text("2 learners are here now")
    assert_accessible(author)

    # Ada leaves (her tab closes): the count drops on the dashboard at once.
    ada.close()
    expect(badge).to_have_text("1 learner viewing now")
    # The page's line is a polite live region that changes at most every 10 s.
    expect(author.locator("#presence")).to_have_text("1 learner is here now", timeout=30_000)
    alan.close()
    expect(badge).to_be_hidden()
    assert_accessible(dashboard)
