"""The contract's one error shape for every API answer:

    {"error": {"code": "...", "message": "...", "fields": {...}}}

`ApplicationError` (the services' and views' one error type) and DRF exceptions go through
`api_exception_handler`; Django-level 404/500 on /api/ paths
through `json_handler404` / `json_handler500`; anything unexpected through
`portal.middleware.ApiExceptionMiddleware`. No stack trace or SQL ever reaches a client.
"""

import sys
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

# The status codes clients rely on, and the code each one gets unless the exception names one.
_STATUS_CODES: dict[int, str] = {
    400: "invalid",
    401: "not_authenticated",
    402: "payment_declined",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


# A dependency is down (the database connection was cut, Redis or the broker is away):
# the request may succeed on a retry, so it is answered 503 `unavailable`, never 500.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
OUTAGE_MESSAGE = "A service the portal depends on is unavailable; retry shortly."
# Django's form parser refuses a multipart body (no boundary, a broken part) with its own
# exception, raised wherever request.POST is first read: a CSRF check, a view.
MALFORMED_FORM = "The multipart/form-data body cannot be parsed."
OUTAGE_RETRY_AFTER = "5"


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def outage_response(request: HttpRequest) -> HttpResponse:
    if is_api_path(request):
        response: HttpResponse = error_response(503, OUTAGE_MESSAGE)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Unavailable</title><h1>Back in a moment</h1>"
            f"<p>{OUTAGE_MESSAGE}</p>",
            status=503,
        )
    response["Retry-After"] = OUTAGE_RETRY_AFTER
    return response


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def error_response(
    status_code: int, message: str, code: str | None = None, fields: dict | None = None
) -> JsonResponse:
    body = error_body(code or _STATUS_CODES.get(status_code, "error"), message, fields)
    return JsonResponse(body, status=status_code)


class ApplicationError(Exception):
    """The portal's one error type: services and views raise it (or a subclass naming its
    contract status and code), and `api_exception_handler` alone turns it into an answer.

    `extra` adds keys beside code/message in the error body (e.g. the enrollment a declined
    payment left behind)."""

    status_code: int = 400
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        fields: dict[str, list[str]] | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        if status is not None:
            self.status_code = status
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body = error_body(self.code, self.message, self.fields)
        body["error"].update(self.extra)
        return body


class NotAuthenticated(ApplicationError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(ApplicationError):
    status_code = 403
    code = "forbidden"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class Unavailable(ApplicationError):
    """A dependency is down and the request cannot be served safely."""

    status_code = 503
    code = "unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.sub.0.name": ["message", …]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # A nested object's own errors belong to the field that holds it.
            if key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    fields.update(
                        _flatten_fields(item, f"{prefix}.{index}" if prefix else str(index))
                    )
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _validation_message(fields: dict[str, list[str]]) -> str:
    if list(fields) == ["non_field_errors"]:
        return fields["non_field_errors"][0]
    return "Invalid input: " + ", ".join(sorted(fields)) + "."


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, MultiPartParserError):
        exc = exceptions.ParseError(MALFORMED_FORM)
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(exc.body(), status=exc.status_code)
    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: ApiExceptionMiddleware logs it and answers 500

    headers: dict[str, str] = {}
    # Set on the exception by DRF's APIView (auth_header) and by Throttled (wait).
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(int(wait) + (0 if wait == int(wait) else 1))

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        body = error_body("invalid", _validation_message(fields), fields)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("invalid", f"Malformed request body: {exc.detail}")
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("throttled", "Too many requests; retry later.")
    else:
        code = _STATUS_CODES.get(exc.status_code, "error")
        body = error_body(code, str(exc.detail))

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def is_api_path(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_handler404(request: HttpRequest, exception: Exception | None = None):
    if is_api_path(request):
        return error_response(404, "Not found.")
    return page_not_found(request, exception)


def json_handler500(request: HttpRequest):
    if is_outage(sys.exc_info()[1]):  # raised anywhere, middleware included
        return outage_response(request)
    if is_api_path(request):
        return error_response(500, "An unexpected error occurred; it has been logged.")
    return server_error(request)


def csrf_failure(request: HttpRequest, reason: str = ""):
    if is_api_path(request):
        return error_response(403, "CSRF check failed: reload the page and try again.", "forbidden")
    return default_csrf_failure(request, reason)
