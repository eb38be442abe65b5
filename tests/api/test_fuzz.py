"""Schemathesis against the service's own OpenAPI document, on SQLite and PostgreSQL.

Every operation is fuzzed in-process, and must answer what the document says: never a 5xx,
only documented statuses, each with its documented content type, body schema and headers;
and a request that breaks the document is refused with a 4xx. See docs/fuzzing.md.

``CONTACTLISTS_FUZZ_EXAMPLES`` (default 10) sets the generated cases per operation;
``CONTACTLISTS_FUZZ_COVERAGE=all`` runs the boundary cases on the v1 paths too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from contactlists.app import create_app
from contactlists.config import Settings
from tests.support.fuzz import Seed, seed
from tests.support.jobs import cancel_leftover_jobs_at

MAX_EXAMPLES = int(os.environ.get("CONTACTLISTS_FUZZ_EXAMPLES", "10"))
# The v1 family and the trigger-only prefixes run the v2 family's handlers, and a campaign
# update validates its body as create does; their boundary cases would repeat others and
# double the run, so by default they are only fuzzed.
SAME_HANDLERS_AS_V2 = r"^/(agentassist/api/v1|campaign/api/v1|api/v2)/"
SAME_BODY_AS_CREATE = r"^update_campaign_"

CONFIG = {
    # Timed by the clock, so a busy CI machine could fail it; the rest are about data, and
    # deterministic generation would meet them on every run.
    "suppress-health-check": ["too_slow"],
    "generation": {
        "max-examples": MAX_EXAMPLES,
        # Reproducible in CI: the same cases on every run, and no example database on disk.
        "deterministic": True,
        "database": "none",
        # The service ignores query parameters and headers it does not know, as Kore.ai does.
        "allow-extra-parameters": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {
        # The document gives shapes, not every rule (a name without control characters, a
        # cursor this service issued, a CSV with contacts, campaignType in the query or the
        # body), so a schema-valid request may be refused; that 400 is still held to the
        # document like every answer.
        "positive_data_acceptance": {"enabled": False},
    },
    "operations": []
    if os.environ.get("CONTACTLISTS_FUZZ_COVERAGE") == "all"
    else [
        {"include-path-regex": SAME_HANDLERS_AS_V2, "phases": {"coverage": {"enabled": False}}},
        {
            "include-operation-id-regex": SAME_BODY_AS_CREATE,
            "phases": {"coverage": {"enabled": False}},
        },
    ],
}


def _load_schema() -> Any:
    # The document /openapi.json serves; building the app touches no database.
    document = create_app(Settings(database_url="sqlite://", workers=0)).openapi()
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(CONFIG))


schema = _load_schema()


@dataclass
class Target:
    app: FastAPI
    seed: Seed


@pytest.fixture(scope="module")
def target(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The service on one backend with a seeded tenant; it runs on Schemathesis's event loop."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        workers=0,
        normalise_processes=0,
    )
    seeded = seed(settings)
    app = create_app(settings)
    try:
        yield Target(app, seeded)
    finally:
        # Closes the app's engine, so the test databases can be dropped.
        asgi.shutdown_lifespans()
        cancel_leftover_jobs_at(database_url)  # the uploads it queued, never run


@schema.parametrize()
def test_api(case: Any, target: Target) -> None:
    target.seed.aim(case)
    case.call_and_validate(app=target.app)
