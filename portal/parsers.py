"""What the portal accepts as JSON input: HTTP bodies (`JSONParser`, DRF's parser for every
API view) and websocket frames (`json_input_loads`) follow the same rules.

- At most `MAX_JSON_DEPTH` levels of nesting. Python's decoder and encoder recurse: a few
  KiB of `[[[[…` raised RecursionError (a 500, a socket closed with 1011). The portal's
  deepest input (a course with modules with lessons) has four levels.
- No NUL character and no lone surrogate in any string or key: PostgreSQL refuses NUL in
  text, and a lone surrogate cannot be encoded as UTF-8 (by the database driver, or by the
  renderer echoing it back in an error message).
- Numbers are finite: `NaN` and `Infinity` are not JSON, and `1e999999` overflows to inf.

A refusal names the dotted path of the offending value (`student.email`, `modules.0.title`)
so the API answers 400 `invalid` with it in `fields`.
"""

import codecs
import json
import math
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers

MAX_JSON_DEPTH = 32


class JSONInputError(ValueError):
    """JSON the portal refuses; `path` is the dotted path of the value ("" for the whole)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def text_problem(text: str) -> str | None:
    """Why this string cannot be stored or echoed, or None."""
    if "\x00" in text:
        return "Null characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Lone surrogate characters are not allowed."
    return None


def json_input_check(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise JSONInputError unless `value` (decoded JSON) follows the rules above.
    Iterative, so the check itself cannot overflow the stack."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        node, path, depth = pending.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                raise JSONInputError(problem, path)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise JSONInputError("Numbers must be finite.", path)
        elif isinstance(node, dict | list):
            if depth >= max_depth:
                raise JSONInputError(f"Nested more than {max_depth} levels deep.", path)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, item in items:
                child = f"{path}.{key}" if path else str(key)
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:
                    raise JSONInputError(f"In a key: {problem[0].lower()}{problem[1:]}", path)
                pending.append((item, child, depth + 1))


def json_input_loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON input: ValueError when it is not JSON, JSONInputError (a ValueError)
    when it breaks the rules above."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        # The decoder gave up far beyond max_depth: the same refusal.
        raise JSONInputError(f"Nested more than {max_depth} levels deep.") from exc
    json_input_check(value, max_depth=max_depth)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the rules above: a refused value is 400 `invalid` with its
    path in `fields`; undecodable input stays a ParseError (400 `invalid`)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (LookupError, ValueError) as exc:
            raise exceptions.ParseError(f"The body is not {encoding} text.") from exc
        try:
            return json_input_loads(text)
        except JSONInputError as exc:
            raise exceptions.ValidationError(
                {exc.path or "non_field_errors": [exc.message]}
            ) from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
