"""Small helpers every API view shares, so views stay a few lines of orchestration."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from portal.errors import NotAuthenticated
from portal.ratelimit import rate_limit, subject_hit

ViewMethod = Callable[..., Response]


def validated(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    """The serializer's validated data; 400 `invalid` with `fields` otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def require_user(request: Request) -> AbstractBaseUser:
    if not request.user.is_authenticated:
        raise NotAuthenticated("Authentication credentials were not provided.")
    return request.user


def signed_in_user(request: Request) -> AbstractBaseUser | None:
    return request.user if request.user.is_authenticated else None


def rate_limited(scope: str, *, per_user: bool = False) -> Callable[[ViewMethod], ViewMethod]:
    """Count the request against `scope` first: per client address, or with `per_user`
    per account when signed in (whatever address it comes from). Stack a per-address scope
    beside a per-user one so that new accounts do not bring new quotas."""

    def decorate(view_method: ViewMethod) -> ViewMethod:
        @functools.wraps(view_method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            if per_user and request.user.is_authenticated:
                subject_hit(scope, f"user:{request.user.pk}")
            else:
                http_request: HttpRequest = request._request
                rate_limit(http_request, scope)
            return view_method(view, request, *args, **kwargs)

        return wrapper

    return decorate
