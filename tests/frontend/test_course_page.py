"""The course page for each kind of viewer: students (and anonymous visitors) get the
enrollment form; the course's instructors and staff get "Edit course" and its
draft/published state instead; a draft is a 404 page for everyone else, like a course that
does not exist. And the header's "Admin" link, for staff only. The course itself is in
the HTML (title, summary as the meta description, description, outline, price, seats), in
the words the page's script uses (checked against ui.js under Node)."""

import json
import os
import shutil
import subprocess

import pytest
from django.test import Client

from catalog.models import CourseInstructor, Lesson
from frontend import course_page
from frontend.views import meta_description
from tests.factories import PASSWORD, make_course, make_instructor, make_user
from tests.live import ROOT

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


# --- the course in the HTML (frontend/course_page.py) ------------------------------------


def test_the_course_is_rendered_in_the_html_with_its_summary_as_meta_description(teacher):
    course = make_course(
        title="Python for Data Analysis",
        slug="python-data",
        summary="Clean, explore and chart real data sets with pandas & matplotlib.",
        description="Hands-on from the first lesson.\n\nEach module ends with a <small> project.",
        category="Data Science",
        price="1249.50",
        capacity=30,
        seats_taken=26,
        refund_days=14,
        refund_max_percent=25,
        rating="4.70",
        instructor=teacher,
        modules=2,
        lessons_per_module=2,
    )
    Lesson.objects.filter(module__course=course, position=1, module__position=1).update(
        preview=True, kind="video"
    )
    status, body = page(Client(), "python-data")
    assert status == 200
    assert "<title>Python for Data Analysis · Learning Portal</title>" in body
    assert (
        '<meta name="description" content="Clean, explore and chart real data sets with '
        'pandas &amp; matplotlib.">'
    ) in body
    assert body.count('<meta name="description"') == 1
    assert '<h1 class="course-title">Python for Data Analysis</h1>' in body
    assert (
        '<p class="lede">Clean, explore and chart real data sets with pandas &amp; matplotlib.</p>'
        in body
    )
    assert (
        "<p>Hands-on from the first lesson.</p><p>Each module ends with a &lt;small&gt; project.</p>"
        in body
    )
    assert "<span>Taught by <strong>Grace Hopper</strong></span>" in body
    assert '<span aria-label="Rated 4.7 out of 5">★ 4.7</span>' in body
    assert "<span>4 lessons</span>" in body and "<span>6 min</span>" in body
    assert '<span id="curriculum-summary" class="muted small">2 modules · 4 lessons</span>' in body
    assert (
        '<details class="module" open><summary><span class="module-title">Module 1</span>' in body
    )
    assert '<span class="muted small">2 lessons · 3 min</span>' in body
    assert (
        'class="preview-link">Lesson 1</a> <span class="chip preview-chip">Free preview</span>'
        in body
    )
    assert '<span class="muted small">Video · 1 min</span>' in body
    assert '<p class="price-big" id="course-price">$1,249.50</p>' in body
    assert 'class="seats low" role="status" aria-live="polite">4 of 30 seats left</p>' in body
    assert "Full refund if you cancel within 14 days, having completed at most 25%" in body
    # Sent before the script mounts the form, it would be a plain GET with the buyer's email.
    assert '<button type="submit" id="enroll-submit" class="button primary block" disabled>' in body
    assert "Enroll · $1,249.50</button>" in body
    assert 'id="enroll-card" hidden' not in body and 'id="about" hidden' not in body


def test_a_free_course_shows_no_payment_and_a_full_one_no_form(teacher):
    make_course(title="Free Primer", slug="free-primer", instructor=teacher)
    make_course(title="Full House", slug="full-house", price="10.00", capacity=2, seats_taken=2)
    _, free = page(Client(), "free-primer")
    assert '<p class="price-big" id="course-price">Free</p>' in free
    assert (
        'id="payment" class="payment" data-field="payment_method" aria-describedby="error-payment_method" hidden>'
        in free
    )
    assert (
        'id="coupon-field" hidden>' in free
        and 'id="refund-terms" class="muted small" hidden>' in free
    )
    assert "Open enrollment · unlimited seats" in free and ">Enroll for free</button>" in free
    assert "The outline for this course is being prepared." in free
    _, full = page(Client(), "full-house")
    assert 'class="seats full" role="status" aria-live="polite">Full · no seats left</p>' in full
    assert '<form id="enroll-form" class="stack" novalidate hidden>' in full


def test_its_author_sees_the_drafts_seats_line(draft, teacher):
    _, body = page(signed_in(teacher), draft.slug)
    assert "Draft · enrollment opens when you publish (unlimited seats)" in body
    assert '<p class="price-big" id="course-price">Free</p>' in body
    assert 'id="author-card" data-published="false">' in body


def test_a_long_summary_is_cut_at_a_word_for_the_meta_description():
    text = "Learn " + "very " * 40 + "much."
    cut = meta_description(text)
    assert len(cut) <= 160 and cut.endswith("very…")
    assert meta_description("  Two\n lines,\tone   line. ") == "Two lines, one line."


NODE_CHECK = """
import { minutesLabel, money, seatsText } from "./frontend/static/js/ui.js";
const input = JSON.parse(process.argv[1]);
console.log(JSON.stringify({
  minutes: input.seconds.map(minutesLabel),
  money: input.money.map(([amount, currency]) => money(amount, currency)),
  seats: input.seats.map(([taken, capacity]) => seatsText(taken, capacity)),
}));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_servers_wording_is_the_scripts():
    """course_page's formatting against ui.js's, run by Node (en-US, as in the browser tests)."""
    cases = {
        "seconds": [0, 1, 29.5, 59, 60, 89, 90, 150, 3599, 3600, 3630, 5400, 7200, 86399],
        "money": [["0.00", "usd"], ["49.00", "usd"], ["1249.5", "eur"], ["1000000", "gbp"]],
        "seats": [[0, None], [3, 30], [29, 30], [30, 30], [31, 30], [0, 1]],
    }
    result = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_CHECK, json.dumps(cases)],
        cwd=ROOT,
        env={**os.environ, "LANG": "en_US.UTF-8"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    script = json.loads(result.stdout)
    assert script["minutes"] == [course_page.minutes_label(s) for s in cases["seconds"]]
    assert script["money"] == [course_page.money(a, c) for a, c in cases["money"]]
    assert script["seats"] == [course_page.seats_text(t, c) for t, c in cases["seats"]]
