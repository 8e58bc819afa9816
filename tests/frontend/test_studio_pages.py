"""The studio's pages: for instructors and staff only (anonymous → the sign-in page, back
here after; anyone else → 404), a course or lesson that is not yours → 404, and the pages
carry what their scripts need (data- attributes, no inline script)."""

import pytest
from django.test import Client

from catalog.models import Lesson
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ivy():
    return make_instructor(email="ivy@example.com")


@pytest.fixture
def draft(ivy):
    return make_course(
        title="Draft Course", instructor=ivy, published=False, modules=1, lessons_per_module=1
    )


def lesson_of(course) -> Lesson:
    return Lesson.objects.filter(module__course=course).first()


def studio_paths(course) -> list[str]:
    return [
        "/studio",
        "/studio/new",
        f"/studio/courses/{course.slug}",
        f"/studio/lessons/{lesson_of(course).pk}",
    ]


def test_anonymous_visitors_are_sent_to_sign_in_and_back(draft):
    for path in studio_paths(draft):
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/signin?next={path}"


def test_students_get_404(draft):
    student = client_for(make_user())
    for path in studio_paths(draft):
        assert student.get(path).status_code == 404, path


def test_another_instructors_course_and_lesson_do_not_exist(draft):
    other = client_for(make_instructor(email="oscar@example.com"))
    assert other.get("/studio").status_code == 200
    assert other.get(f"/studio/courses/{draft.slug}").status_code == 404
    assert other.get(f"/studio/lessons/{lesson_of(draft).pk}").status_code == 404
    assert other.get("/studio/courses/no-such-course").status_code == 404
    assert other.get("/studio/lessons/999999").status_code == 404


def test_the_author_and_staff_get_every_page_with_its_module(ivy, draft):
    scripts = ["studio.js", "studio_new.js", "studio_course.js", "studio_lesson.js"]
    staff = make_user(email="sue@example.com", is_staff=True)
    for user in (ivy, staff):
        client = client_for(user)
        for path, script in zip(studio_paths(draft), scripts, strict=True):
            response = client.get(path)
            assert response.status_code == 200, path
            body = response.content.decode()
            assert f'src="/static/js/pages/{script}"' in body
            assert "<script>" not in body and " style=" not in body
            assert "csrftoken" in response.cookies
            # The header links the studio, marked as the current page.
            assert '<a href="/studio" aria-current="page">Studio</a>' in body


def test_pages_carry_their_ids_and_choices(ivy, draft):
    client = client_for(ivy)
    builder = client.get(f"/studio/courses/{draft.slug}").content.decode()
    assert f'data-slug="{draft.slug}"' in builder
    assert '<option value="advanced">Advanced</option>' in builder
    lesson = lesson_of(draft)
    editor = client.get(f"/studio/lessons/{lesson.pk}").content.decode()
    assert f'data-lesson-id="{lesson.pk}"' in editor
    assert '<option value="video">Video</option>' in editor
    new = client.get("/studio/new").content.decode()
    assert '<option value="eur">EUR</option>' in new


def test_the_header_shows_studio_to_instructors_only(ivy):
    assert ">Studio</a>" in client_for(ivy).get("/").content.decode()
    assert ">Studio</a>" not in client_for(make_user()).get("/").content.decode()
    assert ">Studio</a>" not in Client().get("/").content.decode()
