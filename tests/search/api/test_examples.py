"""Every operation in the OpenAPI schema documents examples, and every example is valid against the schema it shows.

Objects are checked closed (no undeclared fields), so an example with a misspelt or stale field name fails here
instead of misleading a client.
"""

import json

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))  # plain JSON types, as clients receive it


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def request_bodies(operation: dict):
    """(where, media type object) for each media type of the operation's request body."""
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        yield f"request {media_type}", content


def response_bodies(operation: dict):
    """(where, media type object) for each JSON response body of the operation."""
    for status, response in operation["responses"].items():
        for media_type, content in response.get("content", {}).items():
            if media_type == "application/json":  # binary downloads have no example body to show
                yield f"{status} {media_type}", content


def bodies(operation: dict):
    yield from request_bodies(operation)
    yield from response_bodies(operation)


def as_json_schema(node, components: dict):
    """OpenAPI 3.0 schema -> JSON Schema: references inlined, `nullable` as a null alternative, objects closed."""
    if isinstance(node, list):
        return [as_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    converted = {}
    for key, value in node.items():
        if key == "properties":
            converted[key] = {name: as_json_schema(field, components) for name, field in value.items()}
        elif key != "nullable":
            converted[key] = as_json_schema(value, components)
    if "properties" in node and "additionalProperties" not in node:
        converted["additionalProperties"] = False
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def test_every_operation_has_request_and_response_examples(schema):
    missing = [
        f"{operation_name}: {where}"
        for operation_name, operation in operations(schema)
        for where, content in bodies(operation)
        if not content.get("examples")
    ]
    assert missing == []


def test_every_operation_has_a_response_example(schema):
    # Guards the one above against an operation whose every response lost its body (and with it the check).
    without = [
        operation_name
        for operation_name, operation in operations(schema)
        if not any(content.get("examples") for _, content in response_bodies(operation))
    ]
    assert without == []


def test_every_example_is_valid_against_the_schema_of_its_body(schema):
    components = schema["components"]["schemas"]
    invalid = []
    for operation_name, operation in operations(schema):
        for where, content in bodies(operation):
            body_schema = as_json_schema(content["schema"], components)
            for example_name, example in content.get("examples", {}).items():
                for error in jsonschema.Draft202012Validator(body_schema).iter_errors(example["value"]):
                    invalid.append(f"{operation_name} {where} {example_name}: {error.json_path}: {error.message}")
    assert invalid == []


def test_the_checks_catch_a_misspelt_field(schema):
    components = schema["components"]["schemas"]
    hit_schema = as_json_schema({"$ref": "#/components/schemas/Hit"}, components)
    content = schema["paths"]["/api/search/"]["post"]["responses"]["200"]["content"]["application/json"]
    hit = dict(content["examples"]["Results"]["value"]["results"][0])
    jsonschema.validate(hit, hit_schema)
    hit["thumbnail"] = hit.pop("thumbnail_url")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(hit, hit_schema)
