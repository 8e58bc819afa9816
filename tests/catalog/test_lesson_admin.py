"""The admin edits lessons whole: text (rendered on save), video (typed by its bytes),
captions (WebVTT only) and resources (size and type kept), and retires cached outlines."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Lesson, LessonCaption, LessonResource
from tests.catalog.media import CAPTIONS_BYTES, VIDEO_BYTES
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import PASSWORD, make_course, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(local_media) -> Client:
    staff = make_user(is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(email=staff.email, password=PASSWORD)
    return client


@pytest.fixture
def lesson() -> Lesson:
    course = make_course(modules=1, lessons_per_module=1)
    return Lesson.objects.get(module__course=course)


def form(lesson: Lesson, **changes) -> dict:
    data = {
        "module": lesson.module_id,
        "title": lesson.title,
        "position": lesson.position,
        "duration_seconds": lesson.duration_seconds,
        "kind": lesson.kind,
        "body": lesson.body,
        "captions-TOTAL_FORMS": "0",
        "captions-INITIAL_FORMS": "0",
        "resources-TOTAL_FORMS": "0",
        "resources-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def change(client: Client, lesson: Lesson, **changes):
    with after_commit():
        return client.post(f"/admin/catalog/lesson/{lesson.id}/change/", form(lesson, **changes))


def test_the_lesson_pages_open(admin_client, lesson):
    assert admin_client.get(f"/admin/catalog/lesson/{lesson.id}/change/").status_code == 200
    assert admin_client.get("/admin/catalog/lesson/add/").status_code == 200
    assert admin_client.get(f"/admin/catalog/module/{lesson.module_id}/change/").status_code == 200
    course_page = f"/admin/catalog/course/{lesson.module.course_id}/change/"
    assert admin_client.get(course_page).status_code == 200


def test_saving_renders_the_text_and_retires_the_cached_outline(admin_client, lesson, api):
    slug = lesson.module.course.slug
    assert api.get(f"/api/courses/{slug}").json()["modules"][0]["lessons"][0]["preview"] is False

    response = change(
        admin_client, lesson, body="# Hello\n\n<script>x()</script> *there*", preview="on"
    )

    assert response.status_code == 302, response.content[:2000]
    lesson.refresh_from_db()
    assert lesson.body_html == (
        "<h2>Hello</h2>\n<p>&lt;script&gt;x()&lt;/script&gt; <em>there</em></p>\n"
    )
    assert api.get(f"/api/courses/{slug}").json()["modules"][0]["lessons"][0]["preview"] is True


def test_a_video_captions_and_a_resource_are_uploaded_and_checked(admin_client, lesson):
    response = change(
        admin_client,
        lesson,
        kind="video",
        media=SimpleUploadedFile("talk.mp4", VIDEO_BYTES, content_type="application/octet-stream"),
        **{
            "captions-TOTAL_FORMS": "1",
            "captions-0-lang": "en",
            "captions-0-label": "English",
            "captions-0-file": SimpleUploadedFile("en.vtt", CAPTIONS_BYTES),
            "resources-TOTAL_FORMS": "1",
            "resources-0-title": "Notes",
            "resources-0-file": SimpleUploadedFile("notes.txt", b"hello"),
            "resources-0-position": "1",
        },
    )

    assert response.status_code == 302, response.content[:3000]
    lesson.refresh_from_db()
    assert lesson.media_content_type == "video/mp4"  # from its bytes, not the sender
    assert LessonCaption.objects.get(lesson=lesson).lang == "en"
    resource = LessonResource.objects.get(lesson=lesson)
    assert (resource.size, resource.content_type) == (5, "text/plain")


def test_files_that_are_not_what_they_claim_are_refused(admin_client, lesson):
    response = change(
        admin_client,
        lesson,
        media=SimpleUploadedFile("talk.mp4", b"<html>not a video</html>", content_type="video/mp4"),
        **{
            "captions-TOTAL_FORMS": "1",
            "captions-0-lang": "en",
            "captions-0-label": "English",
            "captions-0-file": SimpleUploadedFile("en.vtt", b"not captions"),
        },
    )
    assert response.status_code == 200  # the form again, with its errors
    page = response.content.decode()
    assert "The file is not an MP4 or WebM video." in page
    assert "Captions must be UTF-8 WebVTT text" in page
    lesson.refresh_from_db()
    assert not lesson.media
    assert not LessonCaption.objects.exists()


def test_an_admin_edit_is_a_new_version_an_open_studio_tab_conflicts_with(admin_client, lesson):
    course = lesson.module.course
    studio = client_for(course.instructors.first())
    seen = studio.get(f"/api/studio/lessons/{lesson.id}").json()["version"]

    assert change(admin_client, lesson, title="Renamed in the admin").status_code == 302

    answer = studio.patch(
        f"/api/lessons/{lesson.id}", {"title": "Mine", "version": seen}, format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "edit_conflict"
    lesson.refresh_from_db()
    assert lesson.title == "Renamed in the admin"


def test_the_module_page_bumps_what_it_changed_and_nothing_else(admin_client):
    course = make_course(modules=1, lessons_per_module=2)
    module = course.modules.get()
    first, second = module.lessons.order_by("position")
    data = {
        "course": course.pk,
        "title": module.title,
        "position": module.position,
        "lessons-TOTAL_FORMS": "2",
        "lessons-INITIAL_FORMS": "2",
    }
    for n, row in enumerate((first, second)):
        data |= {
            f"lessons-{n}-id": row.pk,
            f"lessons-{n}-module": module.pk,
            f"lessons-{n}-title": row.title,
            f"lessons-{n}-position": row.position,
            f"lessons-{n}-duration_seconds": row.duration_seconds,
            f"lessons-{n}-kind": row.kind,
        }
    versions = (module.version, first.version, second.version)

    with after_commit():
        unchanged = admin_client.post(f"/admin/catalog/module/{module.pk}/change/", data)
    assert unchanged.status_code == 302, unchanged.content[:2000]
    data["lessons-1-title"] = "Renamed in the outline"
    with after_commit():
        renamed = admin_client.post(f"/admin/catalog/module/{module.pk}/change/", data)
    assert renamed.status_code == 302, renamed.content[:2000]

    for row in (module, first, second):
        row.refresh_from_db()
    assert (module.version, first.version, second.version) == (
        versions[0],
        versions[1],
        versions[2] + 1,
    )
