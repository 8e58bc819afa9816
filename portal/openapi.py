"""The OpenAPI document's shared parts: serializers generated from the apps' shapes (see
portal.shapes) and the error answers every operation documents.

`serializer_for(catalog.shapes.Course)` is the DRF serializer class `CourseSchema`, which
drf-spectacular turns into the component of that name: one class per shape (cached), so a
shape nested in several answers is one component.

`error_responses_hook` (a drf-spectacular postprocessing hook, see SPECTACULAR_SETTINGS)
documents the contract's error shape, the component `Error`, for the statuses any
operation may answer, so views declare only their successes and their own domain statuses
(`documented_error(402)`). `AutoSchema` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) states
what the serializers accept as exactly as OpenAPI can, so that input the document calls
valid is accepted (schemathesis checks both ways: tests/portal/test_schemathesis.py).
"""

import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

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

ERROR_STATUSES: dict[int, str] = {
    400: "Malformed JSON, wrong types or failed validation: `invalid`, with `fields`.",
    401: "No or bad credentials where they are required: `not_authenticated`.",
    402: "The payment was declined: `payment_declined`.",
    403: "Authenticated but not allowed, or a failed CSRF check: `forbidden`.",
    404: "No such object, or one the caller may not see: `not_found`.",
    406: "The Accept header allows no JSON answer: `not_acceptable`.",
    409: "In conflict with the current state: `course_full`, `already_enrolled`, "
    "`idempotency_conflict`, …",
    413: "The body is larger than the API accepts: `payload_too_large`.",
    415: "The body is not JSON: `unsupported_media_type`.",
    429: "Rate limited: `throttled`; retry after `Retry-After` seconds.",
    503: "A dependency is down and the request cannot be served safely: `unavailable`.",
}
# Any operation may answer these (a bad token, a body too large, a dependency down, …);
# writes may also conflict (409), and operations that read a body refuse other types (415).
COMMON_ERROR_STATUSES = (400, 401, 403, 404, 406, 413, 429, 503)
WRITE_METHODS = ("post", "put", "patch", "delete")

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
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the limit resets.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def documented_error(status: int) -> OpenApiResponse:
    """A domain status a view declares beside its success (the hook adds the shape)."""
    return OpenApiResponse(description=ERROR_STATUSES[status])


def error_responses_hook(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = set(COMMON_ERROR_STATUSES)
            if method in WRITE_METHODS:
                statuses.add(409)
            if "requestBody" in operation:
                statuses.add(415)
            statuses |= {int(key) for key in responses if key.isdigit() and int(key) >= 400}
            for status in statuses:
                entry = responses.setdefault(str(status), {})
                entry.setdefault("description", ERROR_STATUSES.get(status, "An error."))
                entry["content"] = _ERROR_CONTENT
                if status == 429:
                    entry["headers"] = _RETRY_AFTER
            operation["responses"] = dict(sorted(responses.items()))
    return result
