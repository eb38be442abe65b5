"""Shared by the auth and tenancy tests: the contact-list routes and hand-made JWTs."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from httpx import AsyncClient, Response

from tests.support.paths import Paths
from tests.support.tenants import Tenant

FAMILIES = ("v1", "v2")

INVALID_CREDENTIALS = {
    "status": "failure",
    "message": "Invalid SDK credentials",
    "errors": [{"msg": "Invalid SDK credentials", "code": 4002, "reason": "invalid_credentials"}],
}


@dataclass(frozen=True)
class Route:
    """One contact-list operation on one path family."""

    operation: str
    method: str
    family: str
    writes: bool

    @property
    def id(self) -> str:
        return f"{self.family}-{self.operation}"

    def url(self, bot: str, list_id: str) -> str:
        paths = Paths(self.family, bot)
        if self.operation == "create":
            return paths.create
        if self.operation.startswith("get_all"):
            return paths.get_all
        return paths.list(list_id)

    def body(self) -> dict[str, Any] | None:
        if self.operation == "create":
            return {"name": f"Intruder {self.id}", "description": "should not exist"}
        if self.operation == "update":
            return {"name": f"Intruder {self.id}", "description": "should not be set"}
        return None

    async def send(
        self,
        client: AsyncClient,
        bot: str,
        list_id: str,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> Response:
        body = self.body()
        return await client.request(
            self.method,
            self.url(bot, list_id),
            headers=headers,
            params=params,
            json=body if body is not None else None,
        )


OPERATIONS = (
    ("create", "POST", True),
    ("get", "GET", False),
    ("get_all_get", "GET", False),
    ("get_all_post", "POST", False),
    ("update", "PUT", True),
    ("delete", "DELETE", True),
)
ROUTES = [
    Route(operation, method, family, writes)
    for family in FAMILIES
    for operation, method, writes in OPERATIONS
]
READ_ROUTES = [route for route in ROUTES if not route.writes]
WRITE_ROUTES = [route for route in ROUTES if route.writes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    """Kore.ai-shaped claims for ``tenant``, valid for an hour unless overridden."""
    now = int(time.time())
    return {"appId": tenant.client_id, "iat": now, "exp": now + 3600, **overrides}


def sign(payload: dict[str, Any], secret: str, algorithm: str = "HS256") -> str:
    """A JWT signed with PyJWT (which warns, an error here, on a key too short for HS512)."""
    return jwt.encode(payload, secret, algorithm=algorithm)


def unsigned(payload: dict[str, Any]) -> str:
    """An `alg: none` token, made by hand: header, payload and an empty signature."""
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(payload)}."


async def create_list(
    client: AsyncClient, tenant: Tenant, name: str = "Original", family: str = "v1"
) -> dict[str, Any]:
    response = await client.post(
        Paths(family, tenant.bot).create,
        json={"name": name, "description": "as created"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def snapshot(
    client: AsyncClient, tenant: Tenant, list_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What ``tenant`` sees: the list ``list_id`` and every list of its bot."""
    paths = Paths("v1", tenant.bot)
    one = await client.get(paths.list(list_id), headers=tenant.headers())
    assert one.status_code == 200, one.text
    every = await client.get(paths.get_all, headers=tenant.headers())
    assert every.status_code == 200, every.text
    return one.json()["data"], every.json()["data"]


def unexpected(response: Response, status: int, code: int, reason: str) -> str | None:
    """None when ``response`` is the error envelope with this status, code and reason."""
    try:
        body = response.json()
        entries = body["errors"]
        ok = (
            response.status_code == status
            and body["status"] == "failure"
            and isinstance(body["message"], str)
            and bool(body["message"])
            and len(entries) >= 1
            and all(entry["code"] == code and entry["reason"] == reason for entry in entries)
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    return None if ok else f"{response.status_code} {response.text}"


def assert_error(response: Response, status: int, code: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "failure"
    assert isinstance(body["message"], str)
    assert body["message"]
    assert len(body["errors"]) >= 1
    assert all(entry["code"] == code for entry in body["errors"]), body
    assert all(entry["reason"] == reason for entry in body["errors"]), body
    return body


def assert_forbidden(response: Response) -> dict[str, Any]:
    return assert_error(response, 403, 4003, "forbidden")


def assert_not_found(response: Response) -> dict[str, Any]:
    return assert_error(response, 404, 404, "not_found")
