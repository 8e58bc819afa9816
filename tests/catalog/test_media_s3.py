"""Lesson media on S3, against a real S3-compatible server: moto's server mode, started
here on a free port (a threaded HTTP server in this process; boto3 and the portal reach it
over HTTP like any S3 endpoint, nothing of boto is patched).

Upload, presigned GET fetched over HTTP (content and Range), delete; then the lesson API
and the demo loader with S3 as the default storage, and a running portal server whose
pages allow the bucket's origin for media.
"""

import json
import urllib.error
import urllib.request
from email.message import Message
from io import BytesIO, StringIO
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from catalog.demo import DEMO_CAPTIONS, DEMO_VIDEO
from catalog.models import Lesson
from tests.catalog.media import CAPTIONS_BYTES, VIDEO_BYTES
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import make_course, make_user
from tests.live import LiveServer

SIZE = len(VIDEO_BYTES)
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, request) -> str:
    name = f"lessons-{request.node.name[:30].lower().replace('_', '-')}".strip("-")
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
    return name


def s3_options(endpoint: str, bucket: str) -> dict:
    """What portal/settings.py gives S3Storage when AWS_STORAGE_BUCKET_NAME is set."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        **CREDENTIALS,
        "signature_version": "s3v4",
        "addressing_style": "path",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 3600,
        "file_overwrite": False,
    }


@pytest.fixture
def s3_media(settings, s3_endpoint, bucket):
    """S3 as the portal's default storage for this test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(s3_endpoint, bucket),
        },
    }
    return storages["default"]


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive) and body of a GET over HTTP."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


def test_upload_presigned_get_range_and_delete(s3_endpoint, bucket):
    storage = S3Storage(**s3_options(s3_endpoint, bucket))

    name = storage.save("lessons/abc/video.mp4", ContentFile(VIDEO_BYTES))

    assert storage.exists(name)
    assert storage.size(name) == SIZE
    url = storage.url(name, parameters={"ResponseContentType": "video/mp4"}, expire=600)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == s3_endpoint
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query

    status, headers, body = fetch(url)
    assert (status, body) == (200, VIDEO_BYTES)
    assert headers["Content-Type"] == "video/mp4"

    status, headers, body = fetch(url, Range="bytes=1000-1999")
    assert status == 206
    assert headers["Content-Range"] == f"bytes 1000-1999/{SIZE}"
    assert body == VIDEO_BYTES[1000:2000]
    status, _, body = fetch(url, Range="bytes=-100")
    assert (status, body) == (206, VIDEO_BYTES[-100:])

    storage.delete(name)
    assert not storage.exists(name)
    gone = fetch(url)
    assert gone[0] in (403, 404), gone


def test_objects_are_private_without_a_signature(s3_endpoint, bucket):
    storage = S3Storage(**s3_options(s3_endpoint, bucket))
    name = storage.save("lessons/p/video.mp4", ContentFile(b"secret bytes"))
    acl = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).get_object_acl(Bucket=bucket, Key=name)
    granted = {(grant["Grantee"].get("URI"), grant["Permission"]) for grant in acl["Grants"]}
    assert not any(uri and uri.endswith("AllUsers") for uri, _ in granted)


@pytest.mark.django_db
def test_the_lesson_api_hands_out_presigned_links(s3_media, s3_endpoint, instructor):
    course = make_course(instructor=instructor, modules=1, lessons_per_module=1)
    lesson = Lesson.objects.get(module__course=course)
    teacher = client_for(instructor)

    with after_commit():
        response = teacher.post(
            f"/api/lessons/{lesson.id}/media",
            {
                "file": SimpleUploadedFile("clip.mp4", VIDEO_BYTES, content_type="video/mp4"),
                "captions": [SimpleUploadedFile("en.vtt", CAPTIONS_BYTES, content_type="text/vtt")],
                "caption_lang": ["en"],
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    media = response.json()["media"]
    assert media["url"].startswith(f"{s3_endpoint}/")
    assert parse_qs(urlsplit(media["url"]).query)["X-Amz-Expires"] == ["3600"]

    status, headers, body = fetch(media["url"], Range="bytes=0-99")
    assert (status, body) == (206, VIDEO_BYTES[:100])
    assert headers["Content-Type"] == "video/mp4"
    status, headers, body = fetch(media["captions"][0]["url"])
    assert (status, body) == (200, CAPTIONS_BYTES)
    assert headers["Content-Type"] == "text/vtt"

    # Replacing the video deletes the old object (after commit, through the outbox).
    lesson.refresh_from_db()
    old = lesson.media.name
    with after_commit():
        again = teacher.post(
            f"/api/lessons/{lesson.id}/media",
            {"file": SimpleUploadedFile("v2.mp4", VIDEO_BYTES, content_type="video/mp4")},
            format="multipart",
        )
    assert again.status_code == 201
    assert not s3_media.exists(old)
    assert fetch(media["url"])[0] in (403, 404)  # S3 says 403 for a missing key it may not list

    # A student of another course gets no link at all.
    stranger = client_for(make_user())
    assert stranger.get(f"/api/lessons/{lesson.id}").status_code == 403


@pytest.mark.django_db
def test_demo_media_are_stored_once_on_s3(s3_media):
    call_command(
        "load_demo_data", courses=2, no_progress=True, stdout=StringIO(), stderr=StringIO()
    )
    assert s3_media.exists(DEMO_VIDEO)
    assert s3_media.exists(DEMO_CAPTIONS)
    with s3_media.open(DEMO_VIDEO) as stored:
        assert stored.read() == VIDEO_BYTES
    lesson = Lesson.objects.filter(kind="video", preview=True).first()
    body = Client().get(f"/api/lessons/{lesson.id}").json()
    status, _, data = fetch(body["media"]["url"])
    assert (status, data) == (200, VIDEO_BYTES)


@pytest.mark.django_db
def test_pages_allow_media_from_the_bucket_only_when_s3_is_used(settings, s3_endpoint, bucket):
    def media_sources() -> list[str]:
        policy = Client().get("/")["Content-Security-Policy"]
        directive = next(part for part in policy.split(";") if part.split()[0] == "media-src")
        return directive.split()[1:]

    assert media_sources() == ["'self'"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_options(s3_endpoint, bucket),
        },
    }
    # The origins are computed once per storage set-up (a setting change recomputes them).
    assert media_sources() == ["'self'", s3_endpoint]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_portal_configured_by_its_environment_serves_s3_links(s3_endpoint, bucket):
    """The settings' AWS_* variables alone switch a running portal to S3."""
    course = make_course(modules=1, lessons_per_module=1)
    lesson = Lesson.objects.get(module__course=course)
    lesson.preview = True
    lesson.kind = "video"
    lesson.media = "lessons/live/video.mp4"
    lesson.media_content_type = "video/mp4"
    lesson.save()
    S3Storage(**s3_options(s3_endpoint, bucket)).save(lesson.media.name, BytesIO(VIDEO_BYTES))

    server = LiveServer(
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_S3_REGION_NAME="us-east-1",
        AWS_S3_ADDRESSING_STYLE="path",
        MEDIA_URL_EXPIRY_SECONDS="120",
    ).start()
    try:
        status, _, raw = fetch(f"{server.url}/api/lessons/{lesson.id}")
        assert status == 200
        url = json.loads(raw)["media"]["url"]
        assert url.startswith(f"{s3_endpoint}/{bucket}/lessons/live/video.mp4?")
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]
        status, _, data = fetch(url, Range="bytes=10-19")
        assert (status, data) == (206, VIDEO_BYTES[10:20])
        status, headers, _ = fetch(f"{server.url}/")
        assert f"media-src 'self' {s3_endpoint}" in headers["Content-Security-Policy"]
    finally:
        server.stop()
