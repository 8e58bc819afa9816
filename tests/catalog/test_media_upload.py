"""POST /api/lessons/{id}/media: who may upload, and what is accepted (types by content,
sizes while streaming, WebVTT captions), with the contract's error shape."""

import secrets

import pytest
import requests
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from catalog.media import uploads
from catalog.models import Lesson, LessonCaption
from tests.catalog.media import (
    CAPTIONS_BYTES,
    VIDEO_BYTES,
    WEBM_HEAD,
    enroll_directly,
    give_video,
)
from tests.conftest import client_for
from tests.contract import LESSON_KEYS
from tests.enrollment.helpers import after_commit
from tests.factories import PASSWORD, make_course, make_instructor, make_user, token_for
from tests.live import LiveServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def lesson(instructor, local_media) -> Lesson:
    course = make_course(instructor=instructor, modules=1, lessons_per_module=2)
    return Lesson.objects.filter(module__course=course).order_by("position").first()


def video_file(data: bytes = VIDEO_BYTES, name="intro.mp4", content_type="video/mp4"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def captions_file(data: bytes = CAPTIONS_BYTES, name="intro.en.vtt", content_type="text/vtt"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def upload(client, lesson_id: int, **form):
    with after_commit():
        return client.post(f"/api/lessons/{lesson_id}/media", form, format="multipart")


def upload_with_captions(client, lesson_id: int, **form):
    """The demo video with English captions (and whatever `form` adds or overrides)."""
    return upload(
        client,
        lesson_id,
        **{"file": video_file(), "captions": [captions_file()], "caption_lang": ["en"], **form},
    )


def stored_files(folder) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in error.get("fields", {}), error
    return error


def test_an_instructor_uploads_a_video_with_captions(instructor_api, lesson, local_media, api):
    response = upload(
        instructor_api,
        lesson.id,
        file=video_file(),
        captions=[captions_file(), captions_file(name="intro.fr.vtt")],
        caption_lang=["en", "fr"],
        caption_label=["English", "Français"],
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == LESSON_KEYS
    assert body["kind"] == "video"
    assert body["media"]["content_type"] == "video/mp4"
    assert [(c["lang"], c["label"]) for c in body["media"]["captions"]] == [
        ("en", "English"),
        ("fr", "Français"),
    ]
    lesson.refresh_from_db()
    assert lesson.kind == "video"
    assert lesson.media.name.endswith("/intro.mp4")
    with storages["default"].open(lesson.media.name) as stored:
        assert stored.read() == VIDEO_BYTES
    # The links work for the uploader.
    video = instructor_api.get(body["media"]["url"], HTTP_RANGE="bytes=0-3")
    assert video.status_code == 206
    assert b"".join(video.streaming_content) == VIDEO_BYTES[:4]
    # The outline (cached for everyone) shows the new kind at once.
    outline = api.get(f"/api/courses/{lesson.module.course.slug}").json()
    assert outline["modules"][0]["lessons"][0]["kind"] == "video"


def test_a_webm_video_is_accepted_as_webm(instructor_api, lesson):
    data = WEBM_HEAD + bytes(2048)
    response = upload(instructor_api, lesson.id, file=video_file(data, "clip.webm", "video/webm"))
    assert response.status_code == 201, response.content
    assert response.json()["media"]["content_type"] == "video/webm"
    lesson.refresh_from_db()
    assert lesson.media.name.endswith("/clip.webm")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "video/mp4"),  # HTML dressed as video
        (WEBM_HEAD + bytes(64), "video/mp4"),  # a WebM declared as MP4
        (VIDEO_BYTES[:4096], "video/webm"),  # an MP4 declared as WebM
        (bytes.fromhex("1a45dfa3") + b"\x42\x82\x88matroska" + bytes(64), "video/webm"),
        (VIDEO_BYTES[:4096], "video/quicktime"),
        (VIDEO_BYTES[:4096], "text/html"),
        (VIDEO_BYTES[:4096], "application/octet-stream"),
    ],
)
def test_a_video_is_judged_by_its_bytes_and_its_type(
    instructor_api, lesson, local_media, data, content_type
):
    response = upload(instructor_api, lesson.id, file=video_file(data, "x.mp4", content_type))
    assert_error(response, 415, "unsupported_media_type", "file")
    lesson.refresh_from_db()
    assert not lesson.media
    assert stored_files(local_media) == set()


@pytest.mark.parametrize(
    "data",
    [
        b"1\n00:00:00.000 --> 00:00:01.000\nno signature\n",
        b"WEBVTTX\n",
        b"<script>alert(1)</script>",
        b"WEBVTT\n\n\xff\xfe not utf-8",
    ],
)
def test_captions_must_be_webvtt(instructor_api, lesson, local_media, data):
    response = upload_with_captions(instructor_api, lesson.id, captions=[captions_file(data)])
    assert_error(response, 415, "unsupported_media_type", "captions.0")
    assert stored_files(local_media) == set()  # the video was not stored either


def test_captions_with_a_bom_and_octet_stream_type_are_accepted(instructor_api, lesson):
    data = b"\xef\xbb\xbfWEBVTT\n\n00:00.000 --> 00:01.000\nHi\n"
    response = upload(
        instructor_api,
        lesson.id,
        file=video_file(),
        captions=[captions_file(data, content_type="application/octet-stream")],
        caption_lang=["pt-BR"],
    )
    assert response.status_code == 201, response.content
    assert response.json()["media"]["captions"][0] == {
        "lang": "pt-BR",
        "label": "pt-BR",
        "url": response.json()["media"]["captions"][0]["url"],
    }


def test_a_video_over_the_limit_is_stopped_while_it_streams(
    instructor_api, lesson, local_media, settings
):
    settings.LESSON_MEDIA_MAX_BYTES = 10_000
    response = upload(instructor_api, lesson.id, file=video_file())
    error = assert_error(response, 413, "payload_too_large", "file")
    assert "10000" in error["message"]
    assert stored_files(local_media) == set()


def test_captions_over_the_limit_are_refused(instructor_api, lesson, settings):
    settings.LESSON_CAPTIONS_MAX_BYTES = 100
    response = upload(
        instructor_api,
        lesson.id,
        file=video_file(),
        captions=[captions_file()],
        caption_lang=["en"],
    )
    assert_error(response, 413, "payload_too_large", "captions")


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(instructor, lesson):
    with override_settings(API_UPLOAD_BODY_LIMITS=[(r"^/api/lessons/[0-9]+/media$", 50_000)]):
        client = client_for(instructor)  # its middleware reads the limit when it starts
        response = upload(client, lesson.id, file=video_file())
    error = assert_error(response, 413, "payload_too_large")
    assert "50000" in error["message"]


def test_the_upload_limit_holds_for_browser_sessions_too(instructor, lesson, local_media, settings):
    # The session's CSRF check parses the form before the view runs: the limits must
    # already be in place then.
    settings.LESSON_MEDIA_MAX_BYTES = 10_000
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(email=instructor.email, password=PASSWORD)
    csrf = secrets.token_hex(16)
    browser.cookies["csrftoken"] = csrf
    with after_commit():
        response = browser.post(
            f"/api/lessons/{lesson.id}/media", {"file": video_file()}, HTTP_X_CSRFTOKEN=csrf
        )
    assert_error(response, 413, "payload_too_large", "file")
    settings.LESSON_MEDIA_MAX_BYTES = 10_000_000
    with after_commit():
        accepted = browser.post(
            f"/api/lessons/{lesson.id}/media", {"file": video_file()}, HTTP_X_CSRFTOKEN=csrf
        )
    assert accepted.status_code == 201, accepted.content
    with after_commit():
        no_token = browser.post(f"/api/lessons/{lesson.id}/media", {"file": video_file()})
    assert_error(no_token, 403, "forbidden")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({}, "file"),
        ({"caption_lang": ["en"]}, "file"),
        ({"file": "not a file"}, "file"),
        ({"file": "EMPTY"}, "file"),
        ({"file": "VIDEO", "captions": ["CAPTIONS"]}, "caption_lang"),
        ({"file": "VIDEO", "captions": ["CAPTIONS"], "caption_lang": ["en", "fr"]}, "caption_lang"),
        (
            {"file": "VIDEO", "captions": ["CAPTIONS"], "caption_lang": ["not a tag"]},
            "caption_lang.0",
        ),
        (
            {"file": "VIDEO", "captions": ["CAPTIONS", "CAPTIONS"], "caption_lang": ["en", "EN"]},
            "caption_lang",
        ),
        (
            {
                "file": "VIDEO",
                "captions": ["CAPTIONS"],
                "caption_lang": ["en"],
                "caption_label": ["a", "b"],
            },
            "caption_label",
        ),
        ({"captions": ["CAPTIONS"], "caption_lang": ["en"]}, "captions"),  # no video yet
    ],
)
def test_bad_forms_are_400_with_the_field(instructor_api, lesson, form, field):
    files = {
        "VIDEO": video_file,
        "CAPTIONS": captions_file,
        "EMPTY": lambda: SimpleUploadedFile("e.mp4", b"", content_type="video/mp4"),
    }

    def build(value):
        if isinstance(value, list):
            return [build(item) for item in value]
        return files[value]() if value in files else value

    response = upload(instructor_api, lesson.id, **{key: build(v) for key, v in form.items()})
    assert_error(response, 400, "invalid", field)


def test_json_is_not_an_upload(instructor_api, lesson):
    response = instructor_api.post(f"/api/lessons/{lesson.id}/media", {"file": "x"}, format="json")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("enrolled student", 403, "forbidden"),
        ("another instructor", 403, "forbidden"),
        ("staff", 201, None),
    ],
)
def test_who_may_upload(who, status, code, lesson, api, local_media):
    if who == "anonymous":
        client = api
    elif who == "enrolled student":
        user = make_user()
        enroll_directly(user, lesson.module.course)
        client = client_for(user)
    elif who == "another instructor":
        client = client_for(make_instructor())
    else:
        client = client_for(make_user(is_staff=True))
    response = upload(client, lesson.id, file=video_file())
    if code:
        assert_error(response, status, code)
        assert stored_files(local_media) == set()
    else:
        assert response.status_code == status


def test_unknown_lessons_and_other_instructors_drafts_are_404(instructor_api, lesson):
    assert_error(upload(instructor_api, 987654321, file=video_file()), 404, "not_found")
    draft = make_course(published=False, modules=1, lessons_per_module=1)
    draft_lesson = Lesson.objects.get(module__course=draft)
    assert_error(upload(instructor_api, draft_lesson.id, file=video_file()), 404, "not_found")


def test_a_new_upload_replaces_the_old_files_and_deletes_them(instructor_api, lesson, local_media):
    first = upload_with_captions(instructor_api, lesson.id)
    assert first.status_code == 201
    lesson.refresh_from_db()
    old_video = lesson.media.name
    old_captions = LessonCaption.objects.get(lesson=lesson).file.name

    second = upload(
        instructor_api,
        lesson.id,
        file=video_file(name="better.mp4"),
        captions=[captions_file()],
        caption_lang=["EN"],  # the same language, another spelling
        caption_label=["English (new)"],
    )

    assert second.status_code == 201
    lesson.refresh_from_db()
    captions = LessonCaption.objects.get(lesson=lesson)
    assert (captions.lang, captions.label) == ("EN", "English (new)")
    assert lesson.media.name != old_video
    assert stored_files(local_media) == {lesson.media.name, captions.file.name}
    assert not storages["default"].exists(old_video)
    assert not storages["default"].exists(old_captions)


def test_a_file_another_lesson_still_shows_is_kept(instructor_api, lesson, local_media):
    shared = give_video(Lesson.objects.create(module=lesson.module, title="Twin", position=9))
    lesson.media = shared.media.name  # both show one stored video, like the demo lessons
    lesson.media_content_type = "video/mp4"
    lesson.save()

    assert upload(instructor_api, lesson.id, file=video_file()).status_code == 201
    assert storages["default"].exists(shared.media.name)


def test_only_captions_can_be_added_to_a_video_lesson(instructor_api, lesson):
    give_video(lesson, captions=False)
    response = upload(instructor_api, lesson.id, captions=[captions_file()], caption_lang=["de"])
    assert response.status_code == 201, response.content
    assert [c["lang"] for c in response.json()["media"]["captions"]] == ["de"]


def test_files_stored_for_a_failed_change_are_deleted(
    instructor_api, lesson, local_media, monkeypatch
):
    def fail(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(uploads, "_lesson_media_record", fail)
    response = upload_with_captions(instructor_api, lesson.id)
    assert response.status_code == 500
    assert stored_files(local_media) == set()


def test_the_upload_limit_stops_reading_a_file_once_it_outgrows_the_limit(rf, settings):
    settings.LESSON_MEDIA_MAX_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100_000_000  # the next handler keeps files in memory
    request = rf.post(
        "/api/lessons/1/media",
        {"file": video_file(), "captions": [captions_file()], "note": "kept"},
    )
    uploads.upload_limits_install(request)

    files = request.FILES

    assert request.upload_refused_field == "file"
    assert "file" not in files  # never handed on whole
    assert "captions" not in files  # parsing stopped there
    assert isinstance(uploads.upload_refusal(request), uploads.MediaTooLarge)


def test_files_within_the_limits_pass_through_the_handler_untouched(rf):
    request = rf.post("/api/lessons/1/media", {"file": video_file(), "captions": [captions_file()]})
    uploads.upload_limits_install(request)
    assert request.FILES["file"].read() == VIDEO_BYTES
    assert request.FILES["captions"].read() == CAPTIONS_BYTES
    assert uploads.upload_refusal(request) is None


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_running_server_takes_uploads_and_leaves_forms_to_django(instructor):
    """Through daphne: Twisted would parse multipart bodies itself (into memory) and answer
    forms it dislikes with a bare 400; Django parses them, with its limits and errors."""
    course = make_course(instructor=instructor, modules=1, lessons_per_module=1)
    lesson = Lesson.objects.get(module__course=course)
    headers = {"Authorization": f"Bearer {token_for(instructor)}"}
    server = LiveServer().start()
    try:
        url = f"{server.url}/api/lessons/{lesson.id}/media"
        # Only the closing boundary: Twisted's parser refuses it, Django reads no field.
        empty = requests.post(
            url,
            data=b"--b0und4ry--\r\n",
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b0und4ry"},
            timeout=30,
        )
        assert empty.status_code == 400
        assert empty.json()["error"]["fields"] == {"file": ["Send a video, captions, or both."]}

        answer = requests.post(
            url,
            files=[
                ("file", ("intro.mp4", VIDEO_BYTES, "video/mp4")),
                ("captions", ("intro.vtt", CAPTIONS_BYTES, "text/vtt")),
            ],
            data={"caption_lang": "en", "caption_label": "English"},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        media = answer.json()["media"]
        assert media["url"].startswith(f"{server.url}/media/")
        seek = requests.get(media["url"], headers={"Range": "bytes=100-199"}, timeout=30)
        assert seek.status_code == 206
        assert seek.content == VIDEO_BYTES[100:200]
    finally:
        server.stop()
        lesson.refresh_from_db()
        for name in [lesson.media.name, *LessonCaption.objects.values_list("file", flat=True)]:
            if name:
                storages["default"].delete(name)
