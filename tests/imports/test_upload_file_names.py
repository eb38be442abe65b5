"""An uploaded file's name is never a path: only a label, shown back sanitised.

The file is stored as ``<data_dir>/uploads/<24 hex>.upload``; the client's name is reduced to
its last path component, without control or other unprintable characters, at most 255
characters, and ``upload.csv`` when nothing is left (``imports.service._label``), an empty
name included. Nothing is
written anywhere else — checked on the data directory, its parent, the working directory and
the files a traversal would aim at.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from httpx import AsyncClient

from contactlists.config import Settings
from tests.support.contacts import create_list, get_list
from tests.support.envelope import assert_failure
from tests.support.tenants import Tenant
from tests.support.uploads import files_under, multipart_body, upload_url

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
STORED_NAME = re.compile(r"^[0-9a-f]{24}\.upload$")
CONTENT = b"phoneNumber\r\n+12125550100\r\n"
LONG = "x" * 1000 + ".csv"

# (file name as the client sends it, the label the list shows)
NAMES: list[tuple[bytes, str]] = [
    (b"../../evil.csv", "evil.csv"),
    (b"..\\..\\evil.csv", "evil.csv"),
    (b"/etc/passwd", "passwd"),
    (b"C:\\Windows\\win.ini", "win.ini"),
    (b"a\\b.csv", "b.csv"),
    (b"evil\x00.csv", "evil.csv"),
    (b"%2e%2e%2fevil.csv", "%2e%2e%2fevil.csv"),  # not decoded: a label, never a path
    ("\u202egnp.csv".encode(), "gnp.csv"),  # a right-to-left override is not printable
    (b"..", "upload.csv"),
    (b"./", "upload.csv"),
    (b"   ", "upload.csv"),
    (b"", "upload.csv"),
    (LONG.encode(), "x" * 255),
    ("Renewals – août.csv".encode(), "Renewals – août.csv"),
]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _around(settings: Settings) -> dict[str, object]:
    """What an upload could touch outside its directory, to compare before and after."""
    cwd = Path.cwd()
    watched = [
        Path("/etc/passwd"),
        *(base / "evil.csv" for base in (cwd, cwd.parent, cwd.parent.parent)),
        *(base / "evil.csv" for base in (settings.data_dir, settings.data_dir.parent)),
    ]
    return {
        "parent": [p for p in files_under(settings.data_dir.parent) if "uploads" not in p.parts],
        "cwd": sorted(path.name for path in cwd.iterdir()),
        **{str(path): _digest(path) for path in watched},
    }


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_file_names_are_labels_and_files_stay_in_the_upload_directory(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
    family: str,
) -> None:
    target = await create_list(client, tenant, unique_name, allowDuplicates=True)
    uploads = settings.data_dir / "uploads"
    before = _around(settings)

    messages = []
    for name, _label in NAMES:
        body, content_type = multipart_body(
            [(b'form-data; name="file"; filename="' + name + b'"', CONTENT)]
        )
        response = await client.post(
            upload_url(family, tenant, target["_id"]),
            content=body,
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, (name, response.text)
        messages.append(response.json()["message"])

    stored = files_under(uploads)
    assert len(stored) == len(NAMES)
    assert all(STORED_NAME.match(path.name) for path in stored), stored
    assert all(path.parent == uploads for path in stored)
    assert _around(settings) == before

    files = (await get_list(client, tenant, target["_id"]))["files"]
    assert [entry["fileName"] for entry in files] == [label for _, label in NAMES]
    assert sorted(f"{entry['fileId']}.upload" for entry in files) == sorted(
        path.name for path in stored
    )
    assert messages == [f"File {label} is being imported" for _, label in NAMES]

    assert await run_jobs() == len(NAMES)
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == len(NAMES)
    assert files_under(uploads) == []
    assert _around(settings) == before


async def test_a_file_part_without_a_name_or_with_a_huge_one_is_refused(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, settings: Settings, unique_name: str
) -> None:
    """No filename: a form field, not a file (400 on `file`); a name of 5,000 characters: the
    multipart parser refuses the part (400). Nothing is kept either way."""
    target = await create_list(client, tenant, unique_name)
    before = _around(settings)
    for disposition in (
        b'form-data; name="file"',
        b'form-data; name="file"; filename="' + b"y" * 5000 + b'.csv"',
    ):
        body, content_type = multipart_body([(disposition, CONTENT)])
        response = await client.post(
            upload_url("v1", tenant, target["_id"]),
            content=body,
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert_failure(response, 400, "validation_error")
    assert files_under(settings.data_dir) == []
    assert _around(settings) == before
    assert (await get_list(client, tenant, target["_id"]))["files"] == []
    assert await run_jobs() == 0
