"""The OpenAPI document, completed so that it describes every answer the service really gives.

FastAPI documents each route's success. What every route shares is added here, in one place,
rather than on each route: the error answers (CONTRACT §6) with the envelope, narrowed per
status to its reasons and codes; the ``X-Request-Id`` header of every answer; the id formats
the routes match (a path that does not match is no route: 404). Body schemas given through
``openapi_extra`` carry their own ``$defs``, which are moved to ``components`` so that their
references resolve inside the document.

The Schemathesis tests (``tests/test_fuzz.py``) hold the document to the service's answers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from contactlists import errors
from contactlists.auth import BOT_ID_PATTERN
from contactlists.wire import (
    CAMPAIGN_ID_PATTERN,
    CONTACT_ID_PATTERN,
    JOB_ID_PATTERN,
    LIST_ID_PATTERN,
)

Document = dict[str, Any]
Operation = dict[str, Any]

FASTAPI_422_SCHEMAS = ("HTTPValidationError", "ValidationError")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SCHEMAS = "#/components/schemas/"
ENVELOPE = "ErrorEnvelope"

# The route convertors (wire.py) and the caller check (auth.py) accept only these.
PATH_PATTERNS = {
    "bot": BOT_ID_PATTERN.pattern,
    "list_id": f"^{LIST_ID_PATTERN}$",
    "contact_id": f"^{CONTACT_ID_PATTERN}$",
    "campaign_id": f"^{CAMPAIGN_ID_PATTERN}$",
    "job_id": f"^{JOB_ID_PATTERN}$",
}

# The 409 an operation can answer, by operation id without its family suffix.
CONFLICTS: dict[str, str] = {
    "create_contact_list": "A list of this name exists (`duplicate_name`).",
    "update_contact_list": "A list of this name exists (`duplicate_name`), or the dedupe key "
    "of a list with contacts would change (`conflict`).",
    "restore_contact_list": "A list of the list's name was created meanwhile (`duplicate_name`).",
    "delete_contact_list": "A campaign uses the list (`list_in_use`, with `campaignInUse`).",
    "update_contact": "The number is already in a list without duplicates (`duplicate_name`).",
    "create_campaign": "A campaign of this name exists (`duplicate_name`).",
    "update_campaign": "A campaign of this name exists (`duplicate_name`).",
    "delete_campaign": "The campaign is Active (`invalid_state`).",
    "trigger_campaign": "The status machine does not allow the trigger (`invalid_state`).",
    "dialer_next": "The campaign is not Active (`invalid_state`).",
    "undo_job": "Not a finished import, or already undone (`conflict`).",
}

DESCRIPTIONS = {
    400: "The request is invalid: malformed JSON, wrong types, limits, bad query values.",
    401: "Invalid SDK credentials: the token is missing, malformed, expired or not accepted.",
    403: "The app may not do this: scope, bot, or an `iid`/`accountId` that does not match.",
    404: "No such resource for this caller, or no such route.",
    409: "A conflict.",
    413: "The request body is too large.",
    415: "The request body is not of a type this operation reads.",
    429: "Over the account's requests per minute; retry after `Retry-After` seconds.",
    500: "An unexpected error; the log has it under the request id.",
    503: "The database is unreachable or too slow, or `serve` is stopping; retry shortly.",
}

REQUEST_ID_HEADER = {
    "description": "The request's id: the client's `X-Request-Id` when it sent a plain one.",
    "required": True,
    "schema": {"type": "string"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds until the account may send again.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


# /readyz answers with JSONResponse, which FastAPI cannot see into.
READINESS = {
    "200": {
        "description": "The database answers and its schema is current.",
        "schema": {
            "type": "object",
            "required": ["status", "schema"],
            "properties": {"status": {"const": "ok"}, "schema": {"type": "string"}},
        },
    },
    "503": {
        "description": "Not ready: the database is unreachable or its schema is not current "
        "(or `serve` is stopping: then the envelope).",
        "schema": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["status", "reason"],
                    "properties": {
                        "status": {"const": "unavailable"},
                        "reason": {"type": "string"},
                    },
                },
                {"$ref": f"{SCHEMAS}Error503"},
            ]
        },
    },
}


def install(app: FastAPI) -> None:
    """Makes ``app`` serve the completed document at ``/openapi.json`` (built once)."""
    generate: Callable[[], Document] = app.openapi

    def openapi() -> Document:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: Document) -> Document:
    """``document`` with the shared answers, path formats and hoisted body definitions."""
    document = copy.deepcopy(document)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_error_schemas())
    readiness = document.get("paths", {}).get("/readyz", {}).get("get")
    if readiness is not None:
        for status, answer in READINESS.items():
            readiness["responses"][status] = {
                "description": answer["description"],
                "content": {"application/json": {"schema": answer["schema"]}},
            }
    for operation in _operations(document):
        _hoist_definitions(operation, schemas)
        _describe_path_parameters(operation)
        _add_errors(operation)
        for response in operation["responses"].values():
            response.setdefault("headers", {})["X-Request-Id"] = REQUEST_ID_HEADER
    for unused in FASTAPI_422_SCHEMAS:
        schemas.pop(unused, None)
    return document


def _operations(document: Document) -> Iterator[Operation]:
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            if method in item:
                yield item[method]


def _family_free(operation_id: str) -> str:
    """``delete_contact_list_v1`` → ``delete_contact_list``; trigger ids carry more suffixes."""
    # The longest match: update_contact_list_v1 also starts with update_contact_.
    matches = [name for name in CONFLICTS if operation_id.startswith(f"{name}_")]
    return max(matches, key=len, default=operation_id)


def _error_statuses(operation: Operation) -> dict[int, str]:
    parameters = operation.get("parameters", [])
    authenticated = any(p["in"] == "header" and p["name"] == "auth" for p in parameters)
    # Any request still running when `serve`'s shutdown grace ends is answered 503.
    statuses = {500: DESCRIPTIONS[500], 503: DESCRIPTIONS[503]}
    if any(p["in"] == "path" for p in parameters):
        statuses[404] = DESCRIPTIONS[404]
    if authenticated:
        for status in (400, 401, 403, 404, 429):
            statuses[status] = DESCRIPTIONS[status]
    if "requestBody" in operation:
        for status in (400, 413, 415):
            statuses[status] = DESCRIPTIONS[status]
    conflict = CONFLICTS.get(_family_free(operation.get("operationId", "")))
    if conflict:
        statuses[409] = conflict
    return dict(sorted(statuses.items()))


def _add_errors(operation: Operation) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # Every error is listed with its status, so an undocumented status is a finding.
    responses.pop("default", None)
    # FastAPI's own: this service answers a request validation error with the 400 envelope.
    responses.pop("422", None)
    for status, description in _error_statuses(operation).items():
        if str(status) in responses:
            continue  # the route documents its own (readyz's 503 is not the envelope)
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"{SCHEMAS}Error{status}"}}},
        }
        if status == 429:
            response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
        responses[str(status)] = response


def _error_schemas() -> dict[str, Any]:
    """The envelope, and per status the envelope whose entries carry that status's reasons."""
    envelope = errors.ErrorEnvelope.model_json_schema(ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = envelope.pop("$defs", {})
    schemas[ENVELOPE] = envelope
    by_status: dict[int, list[type[errors.ContactListsError]]] = {}
    for kind in _error_classes():
        by_status.setdefault(kind.status_code, []).append(kind)
    for status, kinds in sorted(by_status.items()):
        entry = {
            "properties": {
                "code": {"enum": sorted({kind.code for kind in kinds})},
                "reason": {"enum": sorted({kind.reason for kind in kinds})},
            }
        }
        schemas[f"Error{status}"] = {
            "allOf": [
                {"$ref": SCHEMAS + ENVELOPE},
                {"properties": {"errors": {"items": entry, "minItems": 1}}},
            ]
        }
    return schemas


def _error_classes() -> Iterator[type[errors.ContactListsError]]:
    pending: list[type[errors.ContactListsError]] = [errors.ContactListsError]
    while pending:
        kind = pending.pop()
        yield kind
        pending.extend(kind.__subclasses__())


def _describe_path_parameters(operation: Operation) -> None:
    for parameter in operation.get("parameters", []):
        pattern = PATH_PATTERNS.get(parameter["name"])
        if parameter["in"] == "path" and pattern:
            parameter["schema"] = {**parameter.get("schema", {}), "pattern": pattern}


def _hoist_definitions(operation: Operation, schemas: dict[str, Any]) -> None:
    """Moves a body schema's ``$defs`` to the components and points its references there."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema")
        if not isinstance(schema, dict) or "$defs" not in schema:
            continue
        definitions: dict[str, Any] = schema.pop("$defs")
        same = {name: name for name in definitions}
        names = {
            name: _free_name(name, _relink(definition, same), schemas)
            for name, definition in definitions.items()
        }
        for name, definition in definitions.items():
            schemas[names[name]] = _relink(definition, names)
        media["schema"] = _relink(schema, names)


def _free_name(name: str, definition: Any, schemas: dict[str, Any]) -> str:
    """``name``, or ``name-Input`` when the components hold a different schema of that name."""
    for candidate in (name, f"{name}-Input", f"{name}-Body"):
        if schemas.get(candidate, definition) == definition:
            return candidate
    raise ValueError(f"no free component name for the body schema {name}")


def _relink(schema: Any, names: dict[str, str]) -> Any:
    if isinstance(schema, dict):
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return {**schema, "$ref": SCHEMAS + names[reference.removeprefix("#/$defs/")]}
        return {key: _relink(value, names) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_relink(item, names) for item in schema]
    return schema
