"""Middleware that keeps every /api/ answer in the contract's error shape."""

import re
from collections.abc import Callable
from http import HTTPStatus

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.common import CommonMiddleware

from portal.errors import (
    MALFORMED_FORM,
    error_response,
    is_api_path,
    is_outage,
    outage_response,
)

log = structlog.get_logger(__name__)


# Headers an error answer keeps when it is reshaped.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiErrorShapeMiddleware:
    """Whatever DEBUG is, an /api/ error answer has the contract's shape: Django's own
    pages (the DEBUG 404 and 500 pages, a 400 for a bad Host header, …) become
    `{"error": …}` with the same status. Outermost but for the request id and the metrics,
    so it sees them all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api_path(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").split(";")[0].strip() == "application/json":
            return response
        status = response.status_code
        message = "Not found." if status == 404 else _reason(status)
        shaped = error_response(status, message)
        for name in _KEPT_HEADERS:
            if response.has_header(name):
                shaped[name] = response[name]
        return shaped


def _reason(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "The request failed."


class ApiBodySizeMiddleware:
    """Refuse oversized API bodies from Content-Length before anything reads them: at most
    API_MAX_BODY_BYTES, or the limit API_UPLOAD_BODY_LIMITS gives an upload's path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.upload_limits = [
            (re.compile(pattern), limit)
            for pattern, limit in getattr(settings, "API_UPLOAD_BODY_LIMITS", ())
        ]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.upload_limits:
            if pattern.match(path):
                return limit
        return settings.API_MAX_BODY_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(400, "Invalid Content-Length header.")
            limit = self.limit_for(request.path)
            if length > limit:
                return error_response(413, f"The request body is larger than {limit} bytes.")
        return self.get_response(request)


class ApiExceptionMiddleware:
    """A dependency outage becomes 503 `unavailable`; any other unexpected exception on
    an /api/ path a logged, shaped 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_outage(exception):
            log.warning("request.dependency_down", path=request.path, error=repr(exception))
            return outage_response(request)
        if not is_api_path(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_response(413, "The request body is too large.")
        if isinstance(exception, MultiPartParserError):
            return error_response(400, f"Malformed request body: {MALFORMED_FORM}")
        log.exception("api.unhandled_exception", path=request.path, method=request.method)
        return error_response(500, "An unexpected error occurred; it has been logged.")


class ApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware without the trailing-slash redirect on API paths: under
    DEBUG it raises (a 500) rather than redirect a POST to /api/schema, and no API path
    needs a slash added (only /api/schema/ and /api/docs/ end in one)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return not is_api_path(request) and super().should_redirect_with_slash(request)
