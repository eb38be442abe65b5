"""What the routers share: the path families, the id path parameters and JSON body parsing.

Every router is a module-level ``APIRouter`` whose routes take the path family they were
reached under as a dependency (``FamilyDep``); ``include_per_family`` mounts it once per
family. Only the contact-list answers change shape between v1 and v2, and
``contactlists.lists.render`` says how, in one table.

Bodies are parsed by a dependency instead of FastAPI's own body handling so that
credentials are checked before the body is read (a request without a valid token
gets 401 whatever its body), and so that every body problem, malformed JSON
included, becomes one validation entry naming its field.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.convertors import Convertor, register_url_convertor

from contactlists.errors import (
    PayloadTooLarge,
    Problem,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
)

M = TypeVar("M", bound=BaseModel)


class Shape(Enum):
    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True)
class PathFamily:
    prefix: str
    shape: Shape
    tag: str

    @property
    def fixed_start(self) -> str:
        """The prefix up to its first parameter (``{bot}``): every path of the family has it."""
        return self.prefix.partition("{")[0]

    def operation_id(self, route: APIRoute) -> str:
        """The route's operation id in this family: its name with the family's tag.

        A name may place the tag itself with ``{family}`` (``get_all_contact_lists_{family}_get``).
        """
        if "{family}" in route.name:
            return route.name.replace("{family}", self.tag)
        return f"{route.name}_{self.tag}"


V1 = PathFamily("/agentassist/api/v1/public/{bot}/campaign", Shape.V1, "v1")
V2 = PathFamily("/campaign/api/v2/public/{bot}/campaign", Shape.V2, "v2")
FAMILIES = (V1, V2)


def include_per_family(
    app: FastAPI,
    routes: APIRouter | Callable[[PathFamily], APIRouter],
    *,
    under: str = "",
    tag: str,
) -> None:
    """Mount ``routes`` under each family's prefix (plus ``under``), tagged ``tag (v1)`` etc.

    ``routes`` is a router, or a function giving a family its router when the answers' models
    differ by family (the contact lists'). Each route is added again to a router carrying the
    family's prefix, rather than the router included with a prefix: so every mounted route's
    own path is its whole template, which the access log and metrics label requests by.
    """
    for family in FAMILIES:
        include_under(
            app,
            routes if isinstance(routes, APIRouter) else routes(family),
            prefix=f"{family.prefix}{under}",
            tags=[f"{tag} ({family.tag})"],
            operation_id=family.operation_id,
        )


def include_under(
    app: FastAPI,
    routes: APIRouter,
    *,
    prefix: str,
    tags: list[str | Enum],
    operation_id: Callable[[APIRoute], str],
) -> None:
    """Mount each route of ``routes`` under ``prefix``, its operation id from ``operation_id``."""
    mounted = APIRouter(prefix=prefix, tags=tags, generate_unique_id_function=operation_id)
    for route in routes.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r} is not an API route")
        mounted.add_api_route(
            route.path,
            route.endpoint,
            methods=route.methods,
            name=route.name,
            summary=route.summary,
            response_model=route.response_model,
            response_model_exclude_none=route.response_model_exclude_none,
            response_class=route.response_class,
            responses=route.responses,
            description=route.description,
            openapi_extra=route.openapi_extra,
            dependencies=route.dependencies,
            include_in_schema=route.include_in_schema,
        )
    app.include_router(mounted)


async def family_of(request: Request) -> PathFamily:
    """The family of the path the request came by: the one whose fixed start it has."""
    path = request.scope["path"]
    for family in FAMILIES:
        if path.startswith(family.fixed_start):
            return family
    raise LookupError(f"{path} is in no path family")  # a router mounted outside the families


FamilyDep = Annotated[PathFamily, Depends(family_of)]


# Ids as this service issues them (Kore.ai's look the same): cl-<uuid>, cc-<uuid>, cd-<uuid>,
# job-<uuid>.
LIST_ID_PATTERN = r"cl-[0-9A-Za-z-]{1,100}"
CONTACT_ID_PATTERN = r"cc-[0-9A-Za-z-]{1,100}"
CAMPAIGN_ID_PATTERN = r"cd-[0-9A-Za-z-]{1,100}"
JOB_ID_PATTERN = r"job-[0-9A-Za-z-]{1,100}"


class _IdConvertor(Convertor[str]):
    """Matches one kind of id only, never the named routes beside it.

    Without it ``DELETE …/contactList/createContactList`` would be routed as a list id and
    answer 404 instead of 405, and ids with bytes no database accepts (NUL) would reach
    the database.
    """

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class ListIdConvertor(_IdConvertor):
    regex = LIST_ID_PATTERN


class ContactIdConvertor(_IdConvertor):
    regex = CONTACT_ID_PATTERN


class CampaignIdConvertor(_IdConvertor):
    regex = CAMPAIGN_ID_PATTERN


class JobIdConvertor(_IdConvertor):
    regex = JOB_ID_PATTERN


# Route paths write `{list_id:list_id}`; the convertors must be known before they are built.
register_url_convertor("list_id", ListIdConvertor())
register_url_convertor("contact_id", ContactIdConvertor())
register_url_convertor("campaign_id", CampaignIdConvertor())
register_url_convertor("job_id", JobIdConvertor())

# The id path parameters, as routes declare them (the convertors above do the matching).
ListId = Annotated[str, Path(description="The contact list id, `cl-…`.")]
ContactId = Annotated[str, Path(description="The contact id, `cc-…`.")]
CampaignId = Annotated[str, Path(description="The campaign id, `cd-…`.")]
JobId = Annotated[str, Path(max_length=64, description="The job id, `job-…`.")]


def _describe(error: Any) -> Problem:
    location = [str(part) for part in error["loc"]]
    field = ".".join(location) if location else None
    name = field or "body"
    ctx = error.get("ctx") or {}
    kind = error["type"]
    messages = {
        "missing": f"{name} is required",
        "string_type": f"{name} must be a string",
        "bool_type": f"{name} must be a boolean (true or false)",
        "int_type": f"{name} must be an integer",
        "string_too_short": f"{name} must not be empty",
        "string_too_long": f"{name} must be at most {ctx.get('max_length')} characters",
        "literal_error": f"{name} must be one of {ctx.get('expected')}",
        "string_pattern_mismatch": f"{name} is not in the expected format",
        "model_type": f"{name} must be a JSON object",
        "dict_type": f"{name} must be a JSON object",
    }
    msg = messages.get(kind) or f"{name}: {error['msg'].removeprefix('Value error, ')}"
    return Problem(msg, field)


def validation_failure(errors: list[Any]) -> ValidationFailed:
    return ValidationFailed.of([_describe(error) for error in errors])


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The whole body: 413 past ``limit`` bytes, 408 when it takes longer than ``seconds``.

    Read after the caller's credentials were checked and before the route takes a database
    connection, so a slow client holds a socket and nothing else.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(f"The request body did not arrive within {seconds:g} s.") from None
    return b"".join(chunks)


UTF_8_CHARSETS = ("utf-8", "utf8")


def check_json_content_type(content_type: str | None) -> None:
    """415 unless the type is JSON (``application/json``, ``…+json``) in UTF-8; absent is JSON.

    RFC 8259 §8.1: JSON exchanged between systems is UTF-8, so a declared charset must be UTF-8.
    """
    if content_type is None:
        return
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType()
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in UTF_8_CHARSETS:
            raise UnsupportedMediaType("The request body must be JSON in UTF-8 (charset=utf-8).")


class JsonRefused(ValueError):
    """Valid to Python's parser but not JSON, or ambiguous; the message says which."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins, so a proxy that checked one value
    # could pass the other: a body that repeats a key has no single meaning and is refused.
    found = dict(pairs)
    if len(found) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        repeated = next(key for key, count in counts.items() if count > 1)
        raise JsonRefused(f"The key {json.dumps(repeated[:40])} appears twice in one object.")
    return found


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"The number {text[:40]} is too large.")
    return value


def _not_json(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON value.")


def loads(raw: bytes | str) -> Any:
    """Strict JSON: UTF-8 (a BOM is ignored), no NaN or Infinity, finite numbers, unique keys.

    Raises JsonRefused with a reason, or ValueError / RecursionError for malformed input.
    """
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    return json.loads(
        text, object_pairs_hook=_unique_keys, parse_float=_finite, parse_constant=_not_json
    )


def parse_json_object(raw: bytes, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body as a JSON object; ``empty`` stands for a body of only whitespace, if given."""
    if not raw.strip():
        if empty is not None:
            return dict(empty)
        raise ValidationFailed.field(
            "body", "The request body is empty; a JSON object is required."
        )
    try:
        data = loads(raw)
    except JsonRefused as exc:
        raise ValidationFailed.field("body", f"The request body is refused: {exc}") from None
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON, invalid UTF-8 and numbers too long to parse.
        raise ValidationFailed.field("body", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "The request body must be a JSON object.")
    return data


def validate_body(model: type[M], data: dict[str, Any], context: dict[str, Any] | None = None) -> M:
    """``data`` as ``model``; ``context`` carries settings that bound it (``max_batch``)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_failure(exc.errors(include_url=False)) from None


def body_openapi(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The ``openapi_extra`` that documents a body parsed by :func:`validate_body`.

    ``required=False`` where the route reads an empty body as ``{}`` (``json_body``'s ``empty``).
    """
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def json_body(model: type[M], *, empty: dict[str, Any] | None = None) -> Any:
    """A dependency that reads, parses and validates the body as ``model``.

    Declare it after the caller in a route's signature: FastAPI solves dependencies
    in order, so the body is read only once the credentials have passed.
    """

    async def dependency(request: Request) -> M:
        settings = request.app.state.settings
        raw = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
        # An empty body is judged as empty whatever its type: curl's `--data ''` sends a form type.
        if raw.strip():
            check_json_content_type(request.headers.get("content-type"))
        bounds = {"max_batch": settings.max_batch}
        return validate_body(model, parse_json_object(raw, empty=empty), bounds)

    return Depends(dependency)
