"""The studio's lesson files and preview (STUDIO.md): DELETE /api/lessons/{id}/media,
POST /api/lessons/{id}/resources, DELETE /api/resources/{id}, DELETE /api/captions/{id},
POST /api/lessons/preview."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.content import markdown_render
from catalog.models import Lesson, LessonCaption, LessonResource
from tests.catalog.media import CHEATSHEET_BYTES, give_resource, give_video
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_instructor

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def lesson(instructor, local_media) -> Lesson:
    course = make_course(instructor=instructor, modules=1, lessons_per_module=2)
    return Lesson.objects.filter(module__course=course).order_by("position").first()


def stored_files(folder) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert (error["code"], bool(error["message"])) == (code, True)
    return error


def attach(client, lesson_id: int, **form):
    with after_commit():
        return client.post(f"/api/lessons/{lesson_id}/resources", form, format="multipart")


# --- media -----------------------------------------------------------------------------


def test_the_studio_lesson_shows_media_captions_and_resources(instructor_api, lesson):
    give_video(lesson)
    resource = give_resource(lesson)
    body = instructor_api.get(f"/api/studio/lessons/{lesson.id}").json()
    caption = LessonCaption.objects.get(lesson=lesson)
    assert body["has_media"] is True
    assert (body["captions_count"], body["resources_count"]) == (1, 1)
    assert body["media"]["content_type"] == "video/mp4"
    assert body["media"]["size"] > 0
    assert [(c["id"], c["lang"], c["label"]) for c in body["media"]["captions"]] == [
        (caption.id, "en", "English")
    ]
    assert [(r["id"], r["title"], r["content_type"]) for r in body["resources"]] == [
        (resource.id, "Cheat sheet", "text/plain")
    ]


def test_deleting_the_media_takes_video_and_captions_away(instructor_api, lesson, local_media):
    give_video(lesson)
    assert len(stored_files(local_media)) == 2

    with after_commit():
        response = instructor_api.delete(f"/api/lessons/{lesson.id}/media")

    assert response.status_code == 200
    body = response.json()
    assert (body["media"], body["has_media"], body["captions_count"]) == (None, False, 0)
    assert body["version"] == lesson.version + 1
    assert response["ETag"] == f'"{body["version"]}"'
    assert not LessonCaption.objects.filter(lesson=lesson).exists()
    assert stored_files(local_media) == set()  # the files went after commit


def test_deleting_one_captions_file(instructor_api, lesson, local_media):
    give_video(lesson)
    caption = LessonCaption.objects.get(lesson=lesson)
    before = Lesson.objects.get(pk=lesson.pk).version

    with after_commit():
        response = instructor_api.delete(f"/api/captions/{caption.id}")

    assert response.status_code == 204
    assert not LessonCaption.objects.filter(pk=caption.pk).exists()
    assert [name.endswith(".mp4") for name in stored_files(local_media)] == [True]
    lesson.refresh_from_db()
    assert lesson.version == before + 1  # a saved change of the lesson
    assert instructor_api.delete(f"/api/captions/{caption.id}").status_code == 404


# --- resources -------------------------------------------------------------------------------


def test_a_resource_is_attached_and_deleted(instructor_api, lesson, local_media, api):
    response = attach(
        instructor_api,
        lesson.id,
        file=SimpleUploadedFile("slides.pdf", PDF_BYTES, content_type="application/pdf"),
        title="Slides",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(r["title"], r["size"], r["content_type"]) for r in body["resources"]] == [
        ("Slides", len(PDF_BYTES), "application/pdf")
    ]
    assert body["resources_count"] == 1
    assert body["version"] == 2
    # The link downloads it.
    link = body["resources"][0]["url"]
    download = api.get(link.removeprefix("http://testserver"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES

    resource_id = body["resources"][0]["id"]
    with after_commit():
        assert instructor_api.delete(f"/api/resources/{resource_id}").status_code == 204
    assert not LessonResource.objects.filter(pk=resource_id).exists()
    assert stored_files(local_media) == set()


def test_resources_of_a_refused_type_are_415(instructor_api, lesson, local_media):
    for name, content_type in (("run.exe", "application/octet-stream"), ("page.html", "text/html")):
        response = attach(
            instructor_api,
            lesson.id,
            file=SimpleUploadedFile(name, b"MZ...", content_type=content_type),
            title="Bad",
        )
        assert_error(response, 415, "unsupported_media_type")
    assert not LessonResource.objects.exists()
    assert stored_files(local_media) == set()


def test_resources_over_the_limit_are_413(settings, instructor_api, lesson, local_media):
    settings.LESSON_RESOURCE_MAX_BYTES = 100
    response = attach(
        instructor_api,
        lesson.id,
        file=SimpleUploadedFile("notes.txt", b"x" * 5000, content_type="text/plain"),
        title="Too big",
    )
    error = assert_error(response, 413, "payload_too_large")
    assert "file" in error["fields"]
    assert not LessonResource.objects.exists()


def test_resource_input_is_checked(instructor_api, lesson):
    missing_title = attach(
        instructor_api,
        lesson.id,
        file=SimpleUploadedFile("notes.txt", CHEATSHEET_BYTES, content_type="text/plain"),
    )
    assert "title" in assert_error(missing_title, 400, "invalid")["fields"]
    missing_file = attach(instructor_api, lesson.id, title="Notes")
    assert "file" in assert_error(missing_file, 400, "invalid")["fields"]


def test_files_of_another_instructors_lesson_are_404(lesson, student_api, api):
    give_video(lesson)
    resource = give_resource(lesson)
    caption = LessonCaption.objects.get(lesson=lesson)
    paths = [
        ("delete", f"/api/lessons/{lesson.id}/media"),
        ("delete", f"/api/resources/{resource.id}"),
        ("delete", f"/api/captions/{caption.id}"),
        ("post", f"/api/lessons/{lesson.id}/resources"),
    ]
    for client in (client_for(make_instructor()), student_api):
        for method, path in paths:
            assert_error(getattr(client, method)(path), 404, "not_found")
    for method, path in paths:
        assert_error(getattr(api, method)(path), 401, "not_authenticated")
    assert LessonResource.objects.filter(pk=resource.pk).exists()
    assert LessonCaption.objects.filter(pk=caption.pk).exists()
    lesson.refresh_from_db()
    assert lesson.media


# --- preview ---------------------------------------------------------------------------------


def test_the_preview_renders_as_saving_does(instructor_api):
    source = "# Title\n\n<img src=x onerror=alert(1)> [link](javascript:alert(1)) `code`"
    response = instructor_api.post("/api/lessons/preview", {"body": source}, format="json")
    assert response.status_code == 200
    html = response.json()["body_html"]
    assert html == markdown_render(source)
    assert "<h2>Title</h2>" in html
    assert "<img" not in html  # raw HTML is text: &lt;img …&gt;
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html


def test_the_preview_is_for_instructors_and_staff(api, student_api, staff_api):
    assert_error(
        api.post("/api/lessons/preview", {"body": "x"}, format="json"), 401, "not_authenticated"
    )
    assert_error(
        student_api.post("/api/lessons/preview", {"body": "x"}, format="json"), 403, "forbidden"
    )
    assert staff_api.post("/api/lessons/preview", {"body": "*x*"}, format="json").json() == {
        "body_html": "<p><em>x</em></p>\n"
    }


def test_the_preview_limits_its_body(instructor_api):
    too_long = instructor_api.post("/api/lessons/preview", {"body": "x" * 50_001}, format="json")
    assert "body" in assert_error(too_long, 400, "invalid")["fields"]
    wrong_type = instructor_api.post("/api/lessons/preview", {"body": ["x"]}, format="json")
    assert "body" in assert_error(wrong_type, 400, "invalid")["fields"]
    huge = instructor_api.generic(
        "POST",
        "/api/lessons/preview",
        '{"body": "' + "x" * 300_000 + '"}',
        content_type="application/json",
    )
    assert_error(huge, 413, "payload_too_large")
