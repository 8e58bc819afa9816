"""Small helpers every API view shares, so views stay a few lines of orchestration."""

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from portal.errors import NotAuthenticated
from portal.ratelimit import rate_limit, subject_hit

if TYPE_CHECKING:
    # The stubs' name for settings.AUTH_USER_MODEL (the django-stubs plugin resolves it): the
    # platform names the configured user model without importing the app that defines it.
    from django.contrib.auth.models import _User as User

# A view method's answer: DRF's Response, or a Django response (a file download).
ViewMethod = Callable[..., HttpResponseBase]


class BodyInput(serializers.Serializer):
    """Input from a JSON body: a value of the wrong JSON type is refused (400 `invalid`),
    not coerced. DRF reads 5 as "5" for a text field, "true" or 1 as true, "5" as 5: right
    for query strings, where everything is text, but a body that breaks its documented
    types is a client's bug to report. Nested input serializers derive from it too."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            wrong = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and data.get(field.field_name) is not None
                and (problem := _json_type_problem(field, data[field.field_name]))
            }
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def _json_type_problem(field: serializers.Field, value: Any) -> str | None:
    if isinstance(field, serializers.CharField | serializers.DecimalField):
        # Decimals are text too: money travels as "49.00" (the contract).
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return None if whole and not isinstance(value, bool) else "Must be an integer."
    return None


def validated(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    """The serializer's validated data; 400 `invalid` with `fields` otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def require_user(request: Request) -> "User":
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated("Authentication credentials were not provided.")
    return user


def signed_in_user(request: Request) -> "User | None":
    user = request.user
    return user if user.is_authenticated else None


def rate_limited(scope: str, *, per_user: bool = False) -> Callable[[ViewMethod], ViewMethod]:
    """Count the request against `scope` first: per client address, or with `per_user`
    per account when signed in (whatever address it comes from). Stack a per-address scope
    beside a per-user one so that new accounts do not bring new quotas."""

    def decorate(view_method: ViewMethod) -> ViewMethod:
        @functools.wraps(view_method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if per_user and request.user.is_authenticated:
                subject_hit(scope, f"user:{request.user.pk}")
            else:
                http_request: HttpRequest = request._request
                rate_limit(http_request, scope)
            return view_method(view, request, *args, **kwargs)

        # What the OpenAPI document reads to list 429 (portal.openapi); stacked limits add up.
        wrapper.rate_limit_scopes = (*getattr(view_method, "rate_limit_scopes", ()), scope)  # type: ignore[attr-defined]
        return wrapper

    return decorate
