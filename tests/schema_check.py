"""Every API answer the suite produces, checked against the OpenAPI document.

tests/conftest.py routes the test clients (django.test.Client and DRF's APIClient, which
builds on it) through `check_response`: an answer under /api/ must match the response
schema its operation documents for that status in `/api/schema/` (generated once per
session with drf-spectacular's SchemaGenerator, as the view does), and every error answer
must have the contract's error shape. A 2xx answer the document does not list is a
violation too; an error status it does not list only needs the error shape.
"""

import json
import re
import threading
from functools import cache
from typing import Any

import jsonschema
from drf_spectacular.generators import SchemaGenerator

# The contract's error shape (CONTRACT.md, "Errors"); more keys may be added beside these.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$"},
                "message": {"type": "string", "minLength": 1},
                "fields": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string"},
                    },
                },
            },
        }
    },
}
# The schema and its docs page are the document itself, not operations in it.
NOT_OPERATIONS = ("/api/schema/", "/api/docs/")
# HEAD repeats GET without a body; OPTIONS answers DRF's metadata. Neither is in the document.
UNCHECKED_METHODS = {"HEAD", "OPTIONS"}


class SchemaViolation(AssertionError):
    """An API answer that does not match /api/schema/ or the contract's error shape."""


# drf-spectacular's generator is not thread-safe (its extensions load lazily): a test whose
# first API calls run on several threads at once must not build the document twice at once.
_BUILDING = threading.RLock()


@cache
def _document() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, default=str))


def openapi_document() -> dict[str, Any]:
    """The document GET /api/schema/ serves, as plain JSON data."""
    with _BUILDING:
        return _document()


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema 2020-12: `nullable: true` becomes an
    explicit null (3.0 has no null type; jsonschema ignores the keyword)."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        if isinstance(converted.get("type"), str) and "enum" not in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


class OpenApiCheck:
    def __init__(self, document: dict[str, Any]) -> None:
        self.paths = document["paths"]
        self.components = as_json_schema(document.get("components", {}))
        # Literal paths before templated ones; a template's {name} matches one segment.
        templates = sorted(self.paths, key=lambda template: ("{" in template, template))
        self.routes = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t)
            for t in templates
        ]
        self.validators: dict[tuple[str, str, str], jsonschema.protocols.Validator] = {}
        self.error_validator = jsonschema.Draft202012Validator(ERROR_SCHEMA)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any] | None] | None:
        """(path template, its operation for `method` or None), or None for no such path."""
        for pattern, template in self.routes:
            if pattern.match(path):
                return template, self.paths[template].get(method.lower())
        return None

    def _validator(self, template: str, method: str, status: str, schema: dict[str, Any]):
        key = (template, method, status)
        if key not in self.validators:
            root = {**as_json_schema(schema), "components": self.components}
            self.validators[key] = jsonschema.Draft202012Validator(root)
        return self.validators[key]

    def problems(
        self, *, method: str, path: str, status: int, content_type: str, content: bytes
    ) -> list[str]:
        """Why this answer breaks the document or the error shape ([] when it does not)."""
        if not path.startswith("/api/") or path.startswith(NOT_OPERATIONS):
            return []
        if method in UNCHECKED_METHODS or status < 200 or 300 <= status < 400:
            return []
        is_json = content_type.split(";")[0].strip() == "application/json"
        body: Any = None
        if content:
            if not is_json:
                return [f"a {content_type or 'untyped'} body, not application/json"]
            try:
                body = json.loads(content)
            except ValueError as exc:
                return [f"a body that is not JSON ({exc})"]

        problems: list[str] = []
        if status >= 400:
            problems += _errors(self.error_validator, body, "the error shape")
        found = self.operation(method, path)
        template, operation = found if found else (path, None)
        response = (operation or {}).get("responses", {}).get(str(status))
        if response is None:
            if status < 400:
                where = f"{method} {template}" if operation else f"no operation {method} {path}"
                problems.append(f"status {status} is not documented ({where} in /api/schema/)")
            return problems
        media = (response.get("content") or {}).get("application/json")
        if media is None:
            if content:
                problems.append(f"documented without a body, answered {content[:200]!r}")
            return problems
        validator = self._validator(template, method, str(status), media.get("schema", {}))
        problems += _errors(validator, body, f"the documented {method} {template} {status}")
        return problems


def _errors(validator, body: Any, against: str) -> list[str]:
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
    return [f"{error.json_path}: {error.message} (against {against})" for error in errors[:5]]


@cache
def _check() -> OpenApiCheck:
    return OpenApiCheck(openapi_document())


def openapi_check() -> OpenApiCheck:
    with _BUILDING:
        return _check()


def check_response(response) -> None:
    """Raise SchemaViolation when a test client's answer breaks the document."""
    if getattr(response, "streaming", False):
        return
    request = response.request
    method = request.get("REQUEST_METHOD", "GET").upper()
    path = request.get("PATH_INFO", "")
    if not path.startswith("/api/"):
        return
    problems = openapi_check().problems(
        method=method,
        path=path,
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        content=response.content,
    )
    if problems:
        raise SchemaViolation(
            f"{method} {path} answered {response.status_code}, which does not match "
            "/api/schema/:\n  " + "\n  ".join(problems)
        )
