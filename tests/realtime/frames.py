"""Validating websocket frames against the catalogue (portal.events.types).

The catalogue fixes each frame's own keys; the contract shapes it embeds (Enrollment, User,
search Hit) are checked against the HTTP API's OpenAPI components, made strict (no key
missing, none extra), so a frame and the API can never drift apart.
"""

import functools
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from portal.events.types import CLIENT_FRAMES, SERVER_FRAMES, Event

# The catalogue's shape name → the OpenAPI component the API answers with.
SHAPE_COMPONENTS = {"Enrollment": "EnrollmentSchema", "User": "User", "Hit": "SearchHitSchema"}


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable`, component refs, closed objects."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
        node["required"] = sorted(node["properties"])  # every documented key is present
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def api_defs() -> dict[str, Any]:
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]
    defs = {name: _json_schema(schema) for name, schema in components["schemas"].items()}
    for shape, component in SHAPE_COMPONENTS.items():
        if shape != component:
            defs[shape] = {"$ref": f"#/$defs/{component}"}
    return defs


@functools.cache
def _validator(kind: str, frame_type: str) -> Draft202012Validator:
    catalogue = SERVER_FRAMES if kind == "server" else CLIENT_FRAMES
    return Draft202012Validator(catalogue[frame_type].schema(api_defs()))


def assert_server_frame(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame is one of the catalogue's server frames, exactly (no key missing or extra)."""
    assert frame.get("type") in SERVER_FRAMES, f"not in the catalogue: {frame.get('type')!r}"
    errors = sorted(_validator("server", frame["type"]).iter_errors(frame), key=str)
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors[:5]]
    assert ("seq" in frame) == issubclass(SERVER_FRAMES[frame["type"]], Event) or frame["type"] in {
        "hello",
        "resume.done",
        "resume.gap",
    }
    return frame


def assert_client_frame(frame: dict[str, Any]) -> dict[str, Any]:
    errors = list(_validator("client", frame["type"]).iter_errors(frame))
    assert not errors, [error.message for error in errors[:5]]
    return frame
