"""The OpenAPI document's shared parts: serializers generated from the apps' shapes (see
portal.shapes) and the error answers every operation documents.

`serializer_for(catalog.shapes.Course)` is the DRF serializer class `CourseSchema`, which
drf-spectacular turns into the component of that name: one class per shape (cached), so a
shape nested in several answers is one component.

`AutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) states what the serializers accept as
exactly as OpenAPI can, so that input the document calls valid is accepted (schemathesis
checks both ways: tests/portal/test_schemathesis.py), and documents each operation's error
answers in the contract's shape (the component `Error`): the statuses it may answer from
what the view is (its credentials, method, path, body, Idempotency-Key, rate limit) and
those the view declares with their domain codes (`documented_error(409, CourseFull)`).
`error_responses_hook` (a drf-spectacular postprocessing hook, see SPECTACULAR_SETTINGS)
adds the component and the X-Request-ID header every answer carries.
"""

import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS

from portal.errors import _STATUS_CODES as STATUS_CODES
from portal.errors import OUTAGE_MESSAGE, ApplicationError, error_body
from portal.request_id import HEADER as REQUEST_ID
from portal.shapes import Field
from portal.validators import single_line

_SCALARS: dict[type, type[serializers.Field]] = {
    int: serializers.IntegerField,
    str: serializers.CharField,
    float: serializers.FloatField,
    bool: serializers.BooleanField,
}
_FORMATS: dict[str, type[serializers.Field]] = {
    "slug": serializers.SlugField,
    "email": serializers.EmailField,
    "date-time": serializers.DateTimeField,
    "uri": serializers.URLField,
}


@functools.cache
def serializer_for(shape: type) -> type[serializers.Serializer]:
    """The serializer describing `shape` (a TypedDict), named `<shape>Schema`."""
    attrs: dict[str, Any] = {"__module__": shape.__module__}
    for key, hint in get_type_hints(shape, include_extras=True).items():
        attrs[key] = _field(hint, where=f"{shape.__name__}.{key}")
    return type(f"{shape.__name__}Schema", (serializers.Serializer,), attrs)


def _field(hint: Any, *, where: str) -> serializers.Field:
    detail = Field()
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        detail = next((extra for extra in extras if isinstance(extra, Field)), detail)
    kwargs: dict[str, Any] = {}
    if get_origin(hint) in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{where}: only `X | None` unions are supported")
        if len(members) < len(get_args(hint)):
            kwargs["allow_null"] = True
        hint = members[0]
    if detail.help_text:
        kwargs["help_text"] = detail.help_text
    if is_typeddict(hint):
        return serializer_for(hint)(**kwargs)
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        if is_typeddict(item):
            return serializer_for(item)(many=True, **kwargs)
        return serializers.ListField(child=_field(item, where=where), **kwargs)
    if get_origin(hint) is dict:
        _, value = get_args(hint)
        if value is Any:  # a free-form object (an event's payload, as it was sent)
            return serializers.DictField(**kwargs)
        return serializers.DictField(child=_field(value, where=where), **kwargs)
    if detail.choices is not None:
        choices = getattr(detail.choices, "choices", detail.choices)
        return serializers.ChoiceField(choices=choices, **kwargs)
    if detail.format:
        return _FORMATS[detail.format](**kwargs)
    if hint not in _SCALARS:
        raise TypeError(f"{where}: no OpenAPI field for {hint!r}")
    return _SCALARS[hint](**kwargs)


# --- what the serializers accept ----------------------------------------------------------


# One line without control characters (portal.validators.single_line) and not blank.
SINGLE_LINE_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, closer to what the serializers accept:

    - a decimal's pattern requires a digit and, when `min_value` is not negative, no sign
      (drf-spectacular's `^-?\\d{0,8}(?:\\.\\d{0,2})?$` also matches "", "-" and "-5");
    - required text that is trimmed needs a character that is not white space (DRF strips
      it first, so " " is blank), which minLength alone does not say;
    - an input serializer with `refuses_unknown_fields = True` is a closed object;
    - a DELETE that declares a request body documents it.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = _decimal_pattern(field)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # minLength is set on request fields only (COMPONENT_SPLIT_REQUEST).
        if not (
            isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and schema.get("minLength")
        ):
            return
        if not {"pattern", "format", "enum"} & set(schema):
            schema["pattern"] = r"\S"
        elif single_line in field.validators:
            schema["pattern"] = SINGLE_LINE_TEXT

    def _get_request_body(self, direction="request"):
        # drf-spectacular documents bodies of PUT, PATCH and POST only; a DELETE that
        # declares one (DELETE /api/me takes {"password"}) is documented as a POST's is.
        if self.method != "DELETE" or self.get_request_serializer() is None:
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status, codes in operation_errors(self, operation).items():
            responses[str(status)] = error_response_object(status, codes)
        return operation

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema


def _decimal_pattern(field: serializers.DecimalField) -> str:
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    digits = rf"\d{{1,{whole}}}" if whole else "0"
    return rf"^{sign}{digits}(?:\.\d{{0,{places}}})?$"


# --- error answers ----------------------------------------------------------------------
#
# Every operation documents the statuses it may answer with the contract's error shape
# (the component `Error`), each with the codes it may carry and an example of each:
#
# - any operation: 400 `invalid` (malformed JSON or headers, wrong types, failed
#   validation), 406 (an Accept header without JSON), 413 (a body over the limit, refused
#   from Content-Length whatever the method) and 503 `unavailable` (a dependency down);
# - an operation that looks at credentials: 401 (a bad or expired token, or none where one
#   is needed); a write reachable with a session cookie: 403 (the CSRF check);
# - a path naming an object: 404; a body: 415; an Idempotency-Key: 409
#   `idempotency_conflict` and `idempotency_in_progress`; a handler wrapped in
#   `portal.api.rate_limited`: 429 with Retry-After;
# - whatever else a view says with `documented_error(status, *codes)`: its domain codes
#   (409 `course_full`, 403 `email_unverified`, 429 of a limit counted inside the view, …).

ERROR_STATUSES: dict[int, str] = {
    400: "Malformed JSON or headers, wrong types or failed validation: `invalid`, with `fields`.",
    401: "No or bad credentials where they are required: `not_authenticated`.",
    402: "The payment was declined: `payment_declined`.",
    403: "Authenticated but not allowed, or a failed CSRF check: `forbidden`.",
    404: "No such object, or one the caller may not see: `not_found`.",
    406: "The Accept header allows no JSON answer: `not_acceptable`.",
    409: "In conflict with the current state.",
    413: "The body is larger than the API accepts: `payload_too_large`.",
    415: "The body is not of a type the operation reads: `unsupported_media_type`.",
    429: "Rate limited: `throttled`; retry after `Retry-After` seconds.",
    503: "A dependency is down and the request cannot be served safely: `unavailable`.",
}
# The code each status answers unless a refusal names its own (portal.errors).
GENERIC_CODES: dict[int, str] = {status: STATUS_CODES[status] for status in ERROR_STATUSES}
ALWAYS = (400, 406, 413, 503)
# portal.idempotency answers these to a reused or still running Idempotency-Key.
IDEMPOTENCY_CODES = ("idempotency_conflict", "idempotency_in_progress")

# One example message per code (the examples of the document; the answers' own messages
# may say more).
EXAMPLE_MESSAGES: dict[str, str] = {
    "invalid": "Invalid input: email.",
    "not_authenticated": "Authentication credentials were not provided.",
    "payment_declined": "Your card was declined.",
    "forbidden": "You do not have permission to perform this action.",
    "not_found": "Not found.",
    "not_acceptable": "Could not satisfy the request Accept header.",
    "conflict": "In conflict with the current state.",
    "payload_too_large": "The request body is larger than 262144 bytes.",
    "unsupported_media_type": 'Unsupported media type "text/plain" in request.',
    "throttled": "Too many requests; retry later.",
    "unavailable": OUTAGE_MESSAGE,
    "account_exists": "An account uses this address: sign in to it to claim.",
    "already_completed": "A completed enrollment cannot be cancelled.",
    "already_enrolled": "You are already enrolled in this course.",
    "coupon_exhausted": "This coupon has been used up.",
    "coupon_exists": "A coupon with the code LAUNCH20 already exists; choose another code.",
    "coupon_invalid": "This coupon code is not valid for this course.",
    "course_full": "This course is full.",
    "course_not_full": "This course has a free seat: enroll instead.",
    "edit_conflict": "This course was changed in another tab or by someone else since you "
    "loaded it; nothing was saved.",
    "email_taken": "Another account uses that email address now.",
    "email_unverified": "Confirm your email address first.",
    "hold_expired": "The seat hold of this checkout ran out; enroll again.",
    "idempotency_conflict": "This Idempotency-Key was used with a different request body.",
    "idempotency_in_progress": "A request with this Idempotency-Key is still being "
    "processed; retry shortly.",
    "not_active": "Progress can only be recorded on an active enrollment.",
    "not_in_waitlist": "You are not on this course's waitlist.",
    "not_pending": "This enrollment has no checkout waiting for a payment.",
    "offer_expired": "Your seat offer expired and the course is full again.",
    "payment_in_progress": "A payment for this checkout is still being confirmed.",
    "refund_not_allowed": "A completed course is not refunded.",
    "teaches_courses": "Hand each course over to another instructor before deleting your account.",
}
_EXAMPLE_FIELDS: dict[str, dict[str, list[str]]] = {
    "invalid": {"email": ["Enter a valid email address."]},
    "coupon_invalid": {"coupon": ["This coupon code is not valid for this course."]},
}
_EXAMPLE_EXTRA: dict[str, dict[str, Any]] = {
    "payment_declined": {"enrollment": 42, "decline_code": "card_declined"},
}

ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": "The contract's one error shape. Some codes add keys beside these "
    "(a 402 names the `enrollment` and the `decline_code`).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$", "example": "invalid"},
                "message": {"type": "string", "minLength": 1},
                "fields": {
                    "type": "object",
                    "description": "For `invalid`: messages by dotted field path.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`, when the credentials were looked at and refused.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the limit resets.",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying, when known.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}
# Every answer, errors included, names its request (portal.request_id).
REQUEST_ID_HEADER: dict[str, Any] = {
    "description": "The request's id, on every log line of the request and of the jobs it "
    "queued: a well-formed incoming X-Request-ID (8 to 128 letters, digits, `.`, `_`, `-`), "
    "else a new one.",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{8,128}$"},
}

ErrorCode = str | type[ApplicationError]


class ErrorResponse(OpenApiResponse):
    """A status a view declares beside its success, with the codes it may carry."""

    def __init__(self, status: int, codes: tuple[str, ...]) -> None:
        super().__init__(description=ERROR_STATUSES[status])
        self.status = status
        self.codes = codes


def documented_error(status: int, *codes: ErrorCode) -> ErrorResponse:
    """A status a view may answer beyond what AutoSchema infers, with its codes: strings
    or the ApplicationError subclasses that raise them (`documented_error(409, CourseFull,
    AlreadyEnrolled)`); none, the status's generic code."""
    names: list[str] = []
    for code in codes:
        if isinstance(code, str):
            names.append(code)
            continue
        if code.status_code != status:
            raise ValueError(f"{code.__name__} answers {code.status_code}, not {status}")
        names.append(code.code)
    return ErrorResponse(status, tuple(names) or (GENERIC_CODES[status],))


def error_example(code: str) -> dict[str, Any]:
    body = error_body(
        code, EXAMPLE_MESSAGES.get(code, "The request failed."), _EXAMPLE_FIELDS.get(code)
    )
    body["error"].update(_EXAMPLE_EXTRA.get(code, {}))
    return body


def error_response_object(status: int, codes: list[str]) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes)
    description = ERROR_STATUSES.get(status, "An error.")
    if codes != [GENERIC_CODES.get(status)]:
        description = f"{description} Codes: {listed}."
    entry: dict[str, Any] = {
        "description": description,
        "content": {
            "application/json": {
                "schema": _ERROR_REF,
                "examples": {code: {"value": error_example(code)} for code in codes},
            }
        },
    }
    if status in _HEADERS:
        entry["headers"] = {name: dict(header) for name, header in _HEADERS[status].items()}
    return entry


def _declared_errors(schema: "AutoSchema") -> dict[int, tuple[str, ...]]:
    responses = schema.get_response_serializers()
    if not isinstance(responses, dict):  # a bare serializer: no error declared
        return {}
    declared: dict[int, tuple[str, ...]] = {}
    for key, response in responses.items():
        status = key[0] if isinstance(key, tuple) else key
        if isinstance(response, ErrorResponse):
            declared[int(status)] = response.codes
        elif str(status).isdigit() and int(status) >= 400:
            declared[int(status)] = (GENERIC_CODES.get(int(status), "error"),)
    return declared


def operation_errors(schema: "AutoSchema", operation: dict[str, Any]) -> dict[int, list[str]]:
    """The statuses (and their codes) this operation may answer errors with."""
    method = schema.method.upper()
    parameters = operation.get("parameters", [])
    authenticators = schema.view.get_authenticators()
    handler = getattr(schema.view, schema.method.lower(), None)

    inferred = set(ALWAYS)
    if authenticators:
        inferred.add(401)
    if method not in SAFE_METHODS and any(
        isinstance(authenticator, SessionAuthentication) for authenticator in authenticators
    ):
        inferred.add(403)  # the CSRF check of a session-authenticated write
    if any(parameter["in"] == "path" for parameter in parameters):
        inferred.add(404)
    if "requestBody" in operation:
        inferred.add(415)
    if getattr(handler, "rate_limit_scopes", ()):
        inferred.add(429)
    statuses = {status: [GENERIC_CODES[status]] for status in inferred}
    if any(
        parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
        for parameter in parameters
    ):
        statuses[409] = list(IDEMPOTENCY_CODES)
    for status, codes in _declared_errors(schema).items():
        statuses.setdefault(status, []).extend(codes)
    return {status: list(dict.fromkeys(codes)) for status, codes in sorted(statuses.items())}


def error_responses_hook(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """The `Error` component, X-Request-ID on every answer, and the error shape on any
    error status a view documented by hand (`404: None`); responses in status order."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for key, response in responses.items():
                if key.isdigit() and int(key) >= 400 and "content" not in response:
                    codes = [GENERIC_CODES.get(int(key), "error")]
                    response.update(error_response_object(int(key), codes))
                response.setdefault("headers", {})[REQUEST_ID] = REQUEST_ID_HEADER
            operation["responses"] = dict(sorted(responses.items()))
    return result
