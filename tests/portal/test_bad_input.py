"""Bad input gets the contract's error shape, never a 500: digits int() refuses or reads as
another number, NUL characters and lone surrogates (PostgreSQL refuses NUL in text),
numbers beyond bigint, JSON nested thousands deep, values of the wrong JSON type, and the
answers Django itself makes under DEBUG. tests/realtime/test_bad_frames.py does the same
for websocket frames."""

import json
import re
import secrets

import pytest
from django.test import Client, override_settings

from catalog.models import Course
from enrollment.models import Enrollment
from tests.conftest import client_for
from tests.enrollment.helpers import enroll
from tests.factories import make_course
from tests.schema_check import openapi_document

pytestmark = pytest.mark.django_db

BIG = 10**21  # beyond PostgreSQL's bigint


def post_json(client, path: str, raw: str | bytes):
    return client.post(path, raw, content_type="application/json")


def assert_invalid(response, field: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    if field is not None:
        assert field in error["fields"], error
    return error


# --- a course named in other digits ------------------------------------------------------


def test_a_superscript_digit_is_not_a_course_id(student):
    make_course(slug="intro")

    assert_invalid(enroll(client_for(student), {"course": "²"}), "course")
    assert not Enrollment.objects.exists()


def test_digits_of_another_script_do_not_name_the_course_with_that_number(student):
    course = make_course(slug="intro")
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in str(course.pk))
    assert int(arabic_indic) == course.pk  # what str.isdigit() + int() made of it

    assert_invalid(enroll(client_for(student), {"course": arabic_indic}), "course")
    assert not Enrollment.objects.exists()


def test_a_course_id_in_ascii_digits_still_works(student):
    course = make_course(slug="intro")

    assert enroll(client_for(student), {"course": str(course.pk)}).status_code == 201


# --- NUL characters and lone surrogates ---------------------------------------------------


@pytest.mark.parametrize("course", ["\x00", "intro\x00", "a\x00b"])
def test_nul_in_the_course_is_400_on_postgresql(student, course):
    make_course(slug="intro")

    assert_invalid(enroll(client_for(student), {"course": course}), "course")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"course": "intro", "student": {"email": "a@b.c", "name": "A\\u0000"}}', "student.name"),
        ('{"course": "\\ud800"}', "course"),
        ('{"course": "intro", "payment_method": "pm_\\udfff"}', "payment_method"),
        ('{"course": "intro", "x\\u0000": 1}', "non_field_errors"),
    ],
)
def test_nul_and_lone_surrogates_anywhere_in_a_body_are_400_with_their_path(api, body, field):
    make_course(slug="intro")

    assert_invalid(post_json(api, "/api/enrollments", body), field)
    assert not Enrollment.objects.exists()


def test_a_lone_surrogate_in_a_choice_is_400_not_a_500_rendering_it(instructor_api):
    body = '{"title": "T", "summary": "S", "category": "C", "level": "\\ud800"}'

    assert_invalid(post_json(instructor_api, "/api/courses", body), "level")
    assert not Course.objects.exists()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/search?q=py%00", "q"),
        ("/api/search?category=a%00", "category"),
        ("/api/courses?category=%00", "category"),
        ("/api/courses?sort=new%00est", "sort"),
        ("/api/enrollments?course=a%00b", "course"),
    ],
)
def test_nul_in_a_query_parameter_is_400(student_api, path, field):
    assert_invalid(student_api.get(path), field)


# --- numbers beyond bigint ----------------------------------------------------------------


def test_a_page_beyond_bigint_is_an_empty_page(student):
    make_course(slug="intro")
    assert enroll(client_for(student), {"course": "intro"}).status_code == 201

    response = client_for(student).get("/api/enrollments", {"page": BIG, "page_size": 5})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["results"], body["next"]) == (1, [], None)
    assert body["previous"].endswith("/api/enrollments?page=1&page_size=5")


@pytest.mark.parametrize(
    "path",
    [f"/api/courses?page={BIG}", f"/api/courses?instructor={BIG}", f"/api/search?q=a&limit={BIG}"],
)
def test_other_integer_parameters_beyond_bigint_are_not_500(api, path):
    response = api.get(path)

    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("suffix", ["", "/cancel", "/progress"])
def test_an_enrollment_id_beyond_bigint_is_404(student_api, suffix):
    path = f"/api/enrollments/{BIG}{suffix}"

    response = student_api.post(path) if suffix == "/cancel" else student_api.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_lesson_beyond_bigint_is_400(student):
    make_course(slug="intro", modules=1, lessons_per_module=1)
    enrollment = enroll(client_for(student), {"course": "intro"}).json()

    response = client_for(student).post(
        f"/api/enrollments/{enrollment['id']}/progress",
        {"lesson": BIG, "completed": True},
        format="json",
    )

    assert_invalid(response, "lesson")


# --- deeply nested JSON -------------------------------------------------------------------

NESTED = ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000]


@pytest.mark.parametrize("path", ["/api/auth/token", "/api/auth/register", "/api/enrollments"])
@pytest.mark.parametrize("body", NESTED, ids=["arrays", "objects"])
def test_json_nested_thousands_deep_is_400(api, path, body):
    assert len(body) >= 10_000

    assert_invalid(post_json(api, path, body))


def test_the_depth_limit_is_32_levels(api):
    deep = {"course": "intro", "student": {"email": "a@b.c", "name": "n"}, "x": []}
    inner = deep["x"]
    for _ in range(30):  # the body, "x" and 30 more lists: 32 levels
        inner.append([])
        inner = inner[0]
    make_course(slug="intro")

    assert enroll(api, deep).status_code == 201

    inner.append([])
    error = assert_invalid(post_json(api, "/api/enrollments", json.dumps(deep)))
    assert "Nested more than 32 levels" in json.dumps(error)


def test_non_finite_numbers_are_400(api):
    for raw in ('{"course": NaN}', '{"course": Infinity}', '{"course": 1e999999}'):
        assert_invalid(post_json(api, "/api/enrollments", raw))


# --- values of the wrong JSON type --------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [({"title": 7}, "title"), ({"price": 49}, "price"), ({"published": "false"}, "published")],
)
def test_a_body_value_of_the_wrong_type_is_refused_not_coerced(instructor_api, change, field):
    body = {"title": "T", "summary": "S", "category": "C", **change}

    assert_invalid(instructor_api.post("/api/courses", body, format="json"), field)
    assert not Course.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"lesson": "LESSON", "completed": "true"}, "completed"), ({"lesson": "TEXT"}, "lesson")],
)
def test_progress_with_text_for_numbers_or_booleans_is_400(student, body, field):
    course = make_course(slug="intro", modules=1, lessons_per_module=1)
    enrollment = enroll(client_for(student), {"course": "intro"}).json()
    lesson = course.modules.get().lessons.get().pk
    body = {
        key: (lesson if value == "LESSON" else str(lesson) if value == "TEXT" else value)
        for key, value in body.items()
    }

    response = client_for(student).post(
        f"/api/enrollments/{enrollment['id']}/progress", body, format="json"
    )

    assert_invalid(response, field)


# --- malformed forms ---------------------------------------------------------------------


def malformed_form_post(user, path: str, content_type: str):
    """A signed-in browser's POST whose form Django cannot parse: its session's CSRF check
    reads request.POST first (under daphne, Twisted's bare 400 used to hide what follows)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    csrf = secrets.token_hex(16)
    browser.cookies["csrftoken"] = csrf
    return browser.generic(
        "POST", path, b'{"email": "a@b.c"}', content_type=content_type, HTTP_X_CSRFTOKEN=csrf
    )


MALFORMED_FORMS = ["multipart/form-data", "multipart/form-data; boundary="]


@pytest.mark.parametrize("content_type", MALFORMED_FORMS)
def test_a_form_without_a_boundary_is_400_not_500(student, content_type):
    # Sign-in checks CSRF before its view (Django's csrf_protect), parsing the form there.
    response = malformed_form_post(student, "/api/auth/login", content_type)
    assert_invalid(response)
    assert "multipart" in response.json()["error"]["message"]


@pytest.mark.parametrize("content_type", MALFORMED_FORMS)
@pytest.mark.parametrize(
    "path", ["/api/auth/register", "/api/enrollments", "/api/courses", "/api/lessons/1/media"]
)
def test_malformed_forms_to_other_operations_are_refused_in_the_error_shape(
    student, path, content_type
):
    response = malformed_form_post(student, path, content_type)
    assert response.status_code in (400, 404, 415), response.content
    assert response.json()["error"]["code"] in ("invalid", "not_found", "unsupported_media_type")


# --- Django's own answers, whatever DEBUG is ----------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/no-such-thing", 404, "not_found"),
        ("get", "/api", 404, "not_found"),
        ("post", "/api/schema", 404, "not_found"),
        ("put", "/api/schema", 404, "not_found"),
        ("put", "/api/courses", 405, "method_not_allowed"),
    ],
)
def test_api_errors_have_the_error_shape_whatever_debug_is(
    client, debug, method, path, status, code
):
    client.raise_request_exception = False
    with override_settings(DEBUG=debug):
        response = getattr(client, method)(path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_a_page_that_is_not_api_keeps_django_s_debug_404(client):
    with override_settings(DEBUG=True):
        response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- the OpenAPI document -----------------------------------------------------------------


def test_every_operation_documents_the_error_shape_for_what_it_may_answer():
    document = openapi_document()
    error = {"$ref": "#/components/schemas/Error"}
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 18

    # Which statuses each operation lists: tests/portal/test_openapi_errors.py.
    for method, path, operation in operations:
        responses = operation["responses"]
        expected = {"400", "406", "413", "503"}
        if "requestBody" in operation:
            expected.add("415")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in (s for s in responses if int(s) >= 400):
            assert responses[status]["content"]["application/json"]["schema"] == error
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True
    enroll_responses = document["paths"]["/api/enrollments"]["post"]["responses"]
    assert "402" in enroll_responses
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]


def test_the_document_says_what_the_serializers_accept():
    document = openapi_document()
    schemas = document["components"]["schemas"]
    price = {p["name"]: p["schema"] for p in document["paths"]["/api/courses"]["get"]["parameters"]}
    pattern = price["max_price"]["pattern"]

    assert re.search(pattern, "49.99") and re.search(pattern, "0")
    assert not any(re.search(pattern, bad) for bad in ["", "-", "-1", ".", "1.234"])
    assert schemas["PatchedCourseUpdateInputRequest"]["additionalProperties"] is False
    title = schemas["CourseCreateInputRequest"]["properties"]["title"]
    assert title["minLength"] == 1
    assert re.search(title["pattern"], "A title") and re.search(title["pattern"], " x ")
    assert not any(re.search(title["pattern"], bad) for bad in [" ", "a\nb", "a\x85b", "\t"])
    course = schemas["EnrollmentCreateInputRequest"]["properties"]["course"]
    assert {option["type"] for option in course["oneOf"]} == {"string", "integer"}


def test_ordinary_input_is_still_accepted(staff_api):
    make_course(slug="intro")
    body = {"course": "intro", "student": {"email": "ada@example.com", "name": "Ada"}}

    assert enroll(staff_api, body).status_code == 201
