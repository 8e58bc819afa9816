"""Every /api/ failure answers in the contract's error shape, never with a stack trace."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.views import APIView

from portal.urls import urlpatterns as portal_urlpatterns
from tests.factories import make_course

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}
    return error


def test_unknown_api_path_is_json_404(client):
    assert_error_shape(client.get("/api/no-such-thing"), 404, "not_found")


def test_unknown_course_is_json_404(client):
    assert_error_shape(client.get("/api/courses/no-such-course"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    error = assert_error_shape(client.put("/api/courses", {}), 405, "method_not_allowed")
    assert "PUT" in error["message"]


def test_malformed_json_is_400_invalid(client):
    response = client.post(
        "/api/auth/register", data='{"email": "a@b.c", ', content_type="application/json"
    )
    error = assert_error_shape(response, 400, "invalid")
    assert "JSON" in error["message"]


def test_json_that_is_not_an_object_is_400_with_fields(client):
    response = client.post("/api/auth/register", data="[1, 2]", content_type="application/json")
    error = assert_error_shape(response, 400, "invalid")
    assert error["fields"]


def test_wrong_content_type_is_415(client):
    response = client.post("/api/auth/register", data="email=a", content_type="text/plain")
    assert_error_shape(response, 415, "unsupported_media_type")


@override_settings(API_MAX_BODY_BYTES=1024)
def test_oversized_body_is_413_and_not_read(client):
    big = '{"email": "' + "a" * 5000 + '@example.com", "password": "x", "name": "y"}'
    response = client.post("/api/auth/register", data=big, content_type="application/json")
    assert_error_shape(response, 413, "payload_too_large")


def test_default_body_limit_refuses_a_megabyte(client):
    big = '{"name": "' + "a" * (1024 * 1024) + '"}'
    response = client.post("/api/auth/register", data=big, content_type="application/json")
    assert_error_shape(response, 413, "payload_too_large")


def test_validation_error_lists_nested_fields(instructor_api):
    response = instructor_api.post(
        "/api/courses",
        {
            "title": "T",
            "summary": "S",
            "category": "C",
            "modules": [{"title": "M", "lessons": [{"title": "", "duration_seconds": -5}]}],
        },
        format="json",
    )
    error = assert_error_shape(response, 400, "invalid")
    assert "modules.0.lessons.0.title" in error["fields"]
    assert "modules.0.lessons.0.duration_seconds" in error["fields"]


def test_forbidden_is_403(student_api):
    course = make_course()
    response = student_api.patch(f"/api/courses/{course.slug}", {"title": "x"}, format="json")
    assert_error_shape(response, 403, "forbidden")


def test_sql_and_html_in_input_are_just_data(instructor_api, client):
    title = "Robert'); DROP TABLE catalog_course;-- <script>alert(1)</script>"
    response = instructor_api.post(
        "/api/courses", {"title": title, "summary": "<b>s</b>", "category": "C"}, format="json"
    )
    assert response.status_code == 201
    slug = response.json()["slug"]
    assert client.get(f"/api/courses/{slug}").json()["title"] == title
    assert client.get("/api/courses").json()["count"] == 1


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("secret database password is hunter2")


urlpatterns = [path("api/boom", Boom.as_view()), *portal_urlpatterns]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_unexpected_exception_is_json_500_without_details(client):
    client.raise_request_exception = False
    response = client.get("/api/boom")
    error = assert_error_shape(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "fields" not in error


@override_settings(DEBUG=False)
def test_html_pages_keep_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_openapi_schema_and_docs_render(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert {"/api/courses", "/api/courses/{slug}", "/api/auth/token", "/api/me"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert client.get("/api/docs/").status_code == 200
