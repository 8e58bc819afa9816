"""Middleware that keeps every /api/ answer in the contract's error shape."""

from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from portal.errors import error_response, is_api_path, is_outage, outage_response

log = structlog.get_logger(__name__)


class ApiBodySizeMiddleware:
    """Refuse oversized API bodies from Content-Length before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(400, "Invalid Content-Length header.")
            if length > settings.API_MAX_BODY_BYTES:
                return error_response(
                    413, f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes."
                )
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
        log.exception("api.unhandled_exception", path=request.path, method=request.method)
        return error_response(500, "An unexpected error occurred; it has been logged.")
