"""How the apps define their answers' shapes: once, as TypedDicts.

Each app's `shapes.py` declares the JSON objects it answers with (the contract's `Course`,
`Enrollment`, …) as TypedDicts. Everything else derives from them: the presenters are typed
with them, the OpenAPI serializers are generated from them (`portal.openapi.serializer_for`),
and key sets (search document columns, the tests' contract keys) are read with `keys_of`.

A key's Python type says what it holds (`int | None` is nullable, `list[Module]` is a list of
nested objects); `Annotated[..., Field(...)]` adds what the OpenAPI document shows beyond it.
This module is a leaf: no Django apps, no DRF.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_type_hints, overload


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """A timestamp as the answers carry it: ISO 8601 in UTC, with "Z" (None stays None)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True)
class Field:
    """OpenAPI detail for one key of a shape.

    format: "slug", "email", "date-time" or "uri" (a string in that format);
    choices: the allowed values (a TextChoices class, or a sequence of values);
    help_text: the description shown in the API docs.
    """

    format: str | None = None
    choices: Any = None
    help_text: str | None = None


def keys_of(shape: type) -> tuple[str, ...]:
    """A shape's keys in declaration order (a subclass's keys follow its base's)."""
    return tuple(get_type_hints(shape))
