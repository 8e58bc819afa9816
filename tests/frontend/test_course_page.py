"""The course page for each kind of viewer: students (and anonymous visitors) get the
enrollment form; the course's instructors and staff get "Edit course" and its
draft/published state instead; a draft is a 404 page for everyone else, like a course that
does not exist. And the header's "Admin" link, for staff only."""

import pytest
from django.test import Client

from catalog.models import CourseInstructor
from tests.factories import PASSWORD, make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db

EDIT_LINK = 'id="edit-course" href="/studio/courses/{slug}"'
ENROLL_FORM = 'id="enroll-form"'
ADMIN_LINK = '<a href="/admin/" id="admin-link">Admin</a>'


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def teacher():
    return make_instructor(name="Grace Hopper")


@pytest.fixture
def published(teacher):
    return make_course(title="Intro to Python", slug="intro-to-python", instructor=teacher)


@pytest.fixture
def draft(teacher):
    return make_course(title="Rust Drafts", slug="rust-drafts", instructor=teacher, published=False)


def page(client: Client, slug: str) -> tuple[int, str]:
    response = client.get(f"/courses/{slug}")
    return response.status_code, response.content.decode()


def test_anonymous_visitors_and_students_get_the_enroll_form_and_no_edit_link(published):
    for client in (Client(), signed_in(make_user(name="Sam Student"))):
        status, body = page(client, published.slug)
        assert status == 200
        assert ENROLL_FORM in body
        assert "Edit course" not in body and "/studio/" not in body
        assert 'id="author-card"' not in body and 'id="course-state"' not in body
        assert 'data-slug="intro-to-python"' in body


def test_its_instructor_gets_edit_course_and_the_published_state_instead_of_enrolling(
    published, teacher
):
    status, body = page(signed_in(teacher), published.slug)
    assert status == 200
    assert EDIT_LINK.format(slug="intro-to-python") in body
    assert ENROLL_FORM not in body and 'id="enroll-submit"' not in body
    assert "You teach this course" in body
    assert '<span class="badge state-published" id="course-state">Published</span>' in body
    assert 'data-published="true"' in body


def test_a_co_instructor_gets_it_too(published):
    helper = make_instructor(email="co@example.com", name="Co Teacher")
    CourseInstructor.objects.create(course=published, user=helper, position=2)
    status, body = page(signed_in(helper), published.slug)
    assert status == 200 and EDIT_LINK.format(slug="intro-to-python") in body
    assert ENROLL_FORM not in body


def test_another_instructor_is_a_visitor_there(published):
    other = make_instructor(email="other@example.com", name="Other Teacher")
    status, body = page(signed_in(other), published.slug)
    assert status == 200
    assert ENROLL_FORM in body and "Edit course" not in body


def test_staff_get_edit_course_on_any_course(published):
    staff = make_user(email="staff@example.com", name="Stella Staff", is_staff=True)
    status, body = page(signed_in(staff), published.slug)
    assert status == 200
    assert EDIT_LINK.format(slug="intro-to-python") in body
    assert "Staff view" in body and "You teach this course" not in body
    assert ENROLL_FORM not in body


def test_a_draft_is_a_404_page_for_everyone_but_its_instructors_and_staff(draft, teacher):
    other = make_instructor(email="other@example.com", name="Other Teacher")
    student = make_user(email="student@example.com", name="Sam Student")
    for client in (Client(), signed_in(student), signed_in(other)):
        status, body = page(client, draft.slug)
        assert status == 404
        assert "Course not found" in body
        # Nothing of the draft leaks: not its title, not its slug in a link.
        assert "Rust Drafts" not in body and "/studio/" not in body
        assert ENROLL_FORM not in body

    status, body = page(signed_in(teacher), draft.slug)
    assert status == 200
    assert '<span class="badge state-draft" id="course-state">Draft</span>' in body
    assert 'data-published="false"' in body
    assert EDIT_LINK.format(slug="rust-drafts") in body
    assert ENROLL_FORM not in body

    staff = make_user(email="staff@example.com", name="Stella Staff", is_staff=True)
    status, body = page(signed_in(staff), draft.slug)
    assert status == 200 and 'id="course-state">Draft</span>' in body


def test_an_unknown_course_is_the_same_404_page_as_a_draft(draft):
    missing_status, missing = page(Client(), "no-such-course")
    draft_status, hidden = page(Client(), draft.slug)
    assert missing_status == draft_status == 404
    assert missing.replace("no-such-course", "X") == hidden.replace(draft.slug, "X")
    assert "pages/plain.js" in missing  # the header and the socket work there too


def test_only_staff_see_the_admin_link_in_the_header(published, teacher):
    staff = make_user(email="staff@example.com", name="Stella Staff", is_staff=True)
    student = make_user(email="student@example.com", name="Sam Student")
    for path in ("/", f"/courses/{published.slug}", "/dashboard"):
        assert ADMIN_LINK in signed_in(staff).get(path).content.decode(), path
        for client in (Client(), signed_in(student), signed_in(teacher)):
            assert "/admin/" not in client.get(path).content.decode(), path
