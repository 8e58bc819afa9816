"""The OpenAPI document lists every error an operation may answer, in the contract's error
shape, with the codes it may carry (portal.openapi): a walk over the whole document, then
real refusals of the API, each of which must be documented for its operation with its
status and its code."""

import json
from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog.models import Lesson
from enrollment.errors import CourseFull
from portal.openapi import documented_error
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user
from tests.schema_check import ERROR_SCHEMA, openapi_check, openapi_document

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/Error"}
EVERY_OPERATION = (400, 406, 413, 503)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in openapi_document()["paths"].items()
        for method, operation in methods.items()
    ]


def looks_at_credentials(operation: dict[str, Any]) -> bool:
    return any(requirement for requirement in operation.get("security") or [])


def expected_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """What the portal's shared machinery alone may answer to this operation."""
    expected = set(EVERY_OPERATION)
    if looks_at_credentials(operation):
        expected.add(401)
    if method != "GET" and any("cookieAuth" in r for r in operation.get("security") or []):
        expected.add(403)  # the CSRF check
    if "{" in path:
        expected.add(404)
    if "requestBody" in operation:
        expected.add(415)
    return expected


def test_the_document_has_operations_and_the_error_component():
    document = openapi_document()
    assert len(operations()) > 50
    component = document["components"]["schemas"]["Error"]
    assert component["required"] == ["error"]
    assert component["properties"]["error"]["required"] == ["code", "message"]


def test_every_operation_documents_its_errors_in_the_error_shape():
    error_validator = jsonschema.Draft202012Validator(ERROR_SCHEMA)
    problems: list[str] = []
    for method, path, operation in operations():
        where = f"{method} {path}"
        responses = operation["responses"]
        missing = expected_statuses(method, path, operation) - {int(s) for s in responses}
        if missing:
            problems.append(f"{where}: no {sorted(missing)}")
        if any(
            p["in"] == "header" and p["name"] == "Idempotency-Key"
            for p in operation.get("parameters", [])
        ):
            examples = responses.get("409", {}).get("content", {}).get("application/json", {})
            if not {"idempotency_conflict", "idempotency_in_progress"} <= set(
                examples.get("examples", {})
            ):
                problems.append(f"{where}: an Idempotency-Key without its 409 codes")
        for status, response in responses.items():
            header = response.get("headers", {}).get("X-Request-ID")
            if not (header and header["required"]):
                problems.append(f"{where} {status}: no X-Request-ID header")
            if int(status) < 400:
                continue
            media = response.get("content", {}).get("application/json", {})
            if media.get("schema") != ERROR_REF:
                problems.append(f"{where} {status}: not the Error schema")
            examples = media.get("examples", {})
            if not examples:
                problems.append(f"{where} {status}: no example code")
            for code, example in examples.items():
                body = example["value"]
                if list(error_validator.iter_errors(body)) or body["error"]["code"] != code:
                    problems.append(f"{where} {status}: example {code} is not an error body")
            if status == "429" and not response["headers"]["Retry-After"]["required"]:
                problems.append(f"{where} 429: Retry-After not required")
    assert not problems, "\n".join(problems)


def test_only_operations_that_can_answer_them_document_some_errors():
    """Not every status everywhere: what an operation cannot answer is not listed."""
    responses = {(m, p): set(op["responses"]) for m, p, op in operations()}
    assert "404" not in responses[("GET", "/api/search")]  # no object in its path
    assert "409" not in responses[("POST", "/api/auth/logout")]
    assert "415" not in responses[("GET", "/api/courses")]  # no body
    assert "429" not in responses[("GET", "/api/courses/{slug}")]  # not rate limited
    webhook = responses[("POST", "/api/payments/stripe/webhook")]
    assert not {"401", "403"} & webhook  # no credentials looked at, no session
    assert "401" not in responses[("GET", "/api/certificates/{code}")]  # anyone may verify


def test_a_view_names_its_codes_with_their_errors_class():
    assert documented_error(409, CourseFull, "already_enrolled").codes == (
        "course_full",
        "already_enrolled",
    )
    assert documented_error(402).codes == ("payment_declined",)
    with pytest.raises(ValueError, match="answers 409, not 400"):
        documented_error(400, CourseFull)


# --- real refusals, each documented with its status and code ---------------------------


def assert_documented(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    request = response.request
    found = openapi_check().operation(request["REQUEST_METHOD"], request["PATH_INFO"])
    assert found is not None and found[1] is not None, request["PATH_INFO"]
    template, operation = found
    entry = operation["responses"].get(str(status))
    assert entry is not None, f"{request['REQUEST_METHOD']} {template} does not list {status}"
    examples = entry["content"]["application/json"]["examples"]
    assert code in examples, f"{request['REQUEST_METHOD']} {template} {status}: no {code}"


def enroll(client, body: dict, **extra):
    return client.post(
        "/api/enrollments", json.dumps(body), content_type="application/json", **extra
    )


def test_catalog_refusals_are_documented():
    student = make_user()
    teacher = make_instructor()
    course = make_course(instructor=teacher, modules=1, lessons_per_module=1)
    lesson = Lesson.objects.get(module__course=course)

    assert_documented(Client().get("/api/courses/no-such-course"), 404, "not_found")
    assert_documented(Client().get("/api/me"), 401, "not_authenticated")
    assert_documented(
        client_for(student).post("/api/courses", {"title": "Mine"}, format="json"), 403, "forbidden"
    )
    assert_documented(client_for(student).get(f"/api/lessons/{lesson.pk}"), 403, "forbidden")
    assert_documented(
        client_for(teacher).patch(
            f"/api/courses/{course.slug}", {"title": "New"}, format="json", HTTP_IF_MATCH='"999"'
        ),
        409,
        "edit_conflict",
    )
    assert_documented(Client().get("/api/courses", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_enrollment_refusals_are_documented():
    full = make_course(capacity=1)
    paid = make_course(price="30.00")
    first = {"course": full.slug, "student": {"email": "first@example.com", "name": "First"}}
    assert enroll(Client(), first).status_code == 201

    assert_documented(enroll(Client(), first), 409, "already_enrolled")
    second = {"course": full.slug, "student": {"email": "second@example.com", "name": "Two"}}
    assert_documented(enroll(Client(), second), 409, "course_full")
    assert_documented(enroll(Client(), {"course": full.slug}), 400, "invalid")
    declined = {
        "course": paid.slug,
        "student": {"email": "declined@example.com", "name": "Dee"},
        "payment_method": "pm_card_chargeDeclined",
    }
    assert_documented(enroll(Client(), declined), 402, "payment_declined")
    keyed = {"course": paid.slug, "student": {"email": "k@example.com", "name": "K"}}
    key = {"HTTP_IDEMPOTENCY_KEY": "5e0b3c1a-key"}
    enroll(Client(), {**keyed, "payment_method": "pm_card_visa"}, **key)
    assert_documented(
        enroll(Client(), {**keyed, "payment_method": "pm_card_mastercard"}, **key),
        409,
        "idempotency_conflict",
    )
    assert_documented(
        Client().post("/api/enrollments", "course=x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )


def test_waitlist_refusals_are_documented():
    user = make_user()
    course = make_course(capacity=5)
    waitlist = f"/api/courses/{course.slug}/waitlist"
    assert_documented(client_for(user).post(waitlist), 409, "course_not_full")
    assert_documented(client_for(user).delete(waitlist), 404, "not_in_waitlist")


def test_rate_limits_and_outages_are_documented(rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "login": (1, 60), "login_ip": (1, 60)}
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    assert_documented(
        APIClient().post("/api/auth/token", body, format="json"), 401, "not_authenticated"
    )
    throttled = APIClient().post("/api/auth/token", body, format="json")
    assert_documented(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0

    settings.STRIPE_WEBHOOK_SECRET = ""  # a webhook nobody configured cannot be checked
    assert_documented(
        Client().post("/api/payments/stripe/webhook", "{}", content_type="application/json"),
        503,
        "unavailable",
    )
