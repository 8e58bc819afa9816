"""OpenAPI serializers generated from the apps' shapes (see portal.shapes).

`serializer_for(catalog.shapes.Course)` is the DRF serializer class `CourseSchema`, which
drf-spectacular turns into the component of that name: one class per shape (cached), so a
shape nested in several answers is one component.
"""

import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from rest_framework import serializers

from portal.shapes import Field

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
        return serializers.DictField(child=_field(value, where=where), **kwargs)
    if detail.choices is not None:
        choices = getattr(detail.choices, "choices", detail.choices)
        return serializers.ChoiceField(choices=choices, **kwargs)
    if detail.format:
        return _FORMATS[detail.format](**kwargs)
    if hint not in _SCALARS:
        raise TypeError(f"{where}: no OpenAPI field for {hint!r}")
    return _SCALARS[hint](**kwargs)
