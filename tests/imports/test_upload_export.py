"""Uploading CSV files into a list and exporting a list as CSV (CONTRACT §4.8), over HTTP.

The reading of files itself is covered by test_csv_files; here the routes: what is accepted and
what is refused before anything is queued, what the job reports, where the file is kept and that it
goes away, the list's `files`, `mapping` and `columns`, the streamed export and the round trip.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from contactlists.apps import service as apps
from contactlists.config import Settings
from tests.support.contacts import add_contacts, all_contacts, create_list, get_list, job
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory
from tests.support.uploads import (
    PNG,
    BodyRecorder,
    app_with,
    csv_bytes,
    export,
    export_rows,
    export_url,
    files_under,
    multipart_body,
    upload,
    upload_ok,
    upload_url,
)

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
FAMILIES = ["v1", "v2"]
EXPORT_FIXED = ["_id", "phoneNumber", "firstName", "lastName", "timeZone", "uniqueId",
                "contactPriority"]  # fmt: skip
V1_MAPPING_KEYS = ["firstName", "lastName", "phoneNumber", "timeZone", "uniqueId"]
V2_MAPPING_KEYS = [*V1_MAPPING_KEYS, "contactPriority"]
FILE_ID = re.compile(r"^[0-9a-f]{24}$")


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def mapping_keys(family: str) -> list[str]:
    return V1_MAPPING_KEYS if family == "v1" else V2_MAPPING_KEYS


async def get_list_as(
    client: AsyncClient, tenant: Tenant, list_id: str, family: str
) -> dict[str, Any]:
    response = await client.get(Paths(family, tenant.bot).list(list_id), headers=tenant.headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# ---------------------------------------------------------------- accepted files


async def test_upload_maps_headers_by_name_and_reports_the_job(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    content = csv_bytes(
        [
            ["Phone Number", "first_name", "LAST NAME", "Time_Zone", "Email", "Notes"],
            ["+1 212-555-0100", "Ann", "Smith, Jr.", "", "ann@example.com", 'said "hi", left'],
            ["(212) 555-0101", "Bo", "", "America/Chicago", "", "plain"],
        ],
        newline="\r\n",
        bom=True,
    )
    job_id = await upload_ok(client, tenant, target["_id"], content, file_name="Renewals.csv")

    queued = await job(client, tenant, job_id, "v2")
    assert (queued["_id"], queued["type"], queued["state"], queued["contactListId"]) == (
        job_id,
        "upload",
        "queued",
        target["_id"],
    )
    assert (await get_list(client, tenant, target["_id"]))["status"] == "Validating"
    # Kept as sent, under data_dir, until the job is over.
    [stored] = files_under(settings.data_dir)
    assert stored.read_bytes() == content
    assert await run_jobs() == 1
    assert files_under(settings.data_dir) == []

    for family in FAMILIES:
        report = await job(client, tenant, job_id, family)
        assert (report["type"], report["state"]) == ("upload", "completed")
        assert (report["total"], report["processed"], report["inserted"]) == (2, 2, 2)
        assert (report["duplicates"], report["invalid"], report["errors"]) == (0, 0, [])
        assert report["startedAt"] is not None
        assert report["finishedAt"] is not None

    ann, bo = await all_contacts(client, tenant, target["_id"])
    assert (ann["phoneNumber"], ann["firstName"], ann["lastName"], ann["timeZone"]) == (
        "+12125550100",
        "Ann",
        "Smith, Jr.",
        "America/New_York",
    )
    assert ann["fields"] == {"Email": "ann@example.com", "Notes": 'said "hi", left'}
    assert (bo["phoneNumber"], bo["firstName"], bo["lastName"], bo["timeZone"]) == (
        "+12125550101",
        "Bo",
        None,
        "America/Chicago",
    )
    assert bo["fields"] == {"Email": "", "Notes": "plain"}

    expected_mapping = {
        "firstName": "first_name",
        "lastName": "LAST NAME",
        "phoneNumber": "Phone Number",
        "timeZone": "Time_Zone",
        "uniqueId": "",
        "contactPriority": "",
    }
    for family in FAMILIES:
        listed = await get_list_as(client, tenant, target["_id"], family)
        assert (listed["totalRecordCount"], listed["status"]) == (2, "Ready")
        [recorded] = listed["files"]
        assert list(recorded) == ["fileId", "fileName"]
        assert FILE_ID.match(recorded["fileId"]), recorded
        assert recorded["fileName"] == "Renewals.csv"
        assert listed["mapping"] == {key: expected_mapping[key] for key in mapping_keys(family)}
    assert (await get_list(client, tenant, target["_id"]))["columns"] == ["Email", "Notes"]

    # A second upload, through the other path family, is recorded after the first.
    more = csv_bytes([["phoneNumber", "Tier"], ["+12125550102", "gold"]])
    await upload_ok(client, tenant, target["_id"], more, file_name="more.csv", family="v2")
    assert await run_jobs() == 1
    listed = await get_list(client, tenant, target["_id"])
    assert [f["fileName"] for f in listed["files"]] == ["Renewals.csv", "more.csv"]
    assert len({f["fileId"] for f in listed["files"]}) == 2
    assert listed["columns"] == ["Email", "Notes", "Tier"]
    assert listed["mapping"]["firstName"] == ""
    assert listed["totalRecordCount"] == 3


async def test_gzip_compressed_upload(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    rows = [["phoneNumber", "city"], *([f"+1212555{n:04d}", "Köln"] for n in range(300))]
    # The content decides, not the name.
    for file_name, newline in [("contacts.csv.gz", "\n"), ("contacts.csv", "\r\n")]:
        target = await create_list(client, tenant, f"{unique_name} {newline!r}")
        content = gzip.compress(csv_bytes(rows, newline=newline, bom=True))
        job_id = await upload_ok(client, tenant, target["_id"], content, file_name=file_name)
        await run_jobs()

        report = await job(client, tenant, job_id)
        assert (report["state"], report["total"], report["inserted"]) == ("completed", 300, 300)
        stored = await all_contacts(client, tenant, target["_id"])
        assert [c["phoneNumber"] for c in stored] == [row[0] for row in rows[1:]]
        assert {c["fields"]["city"] for c in stored} == {"Köln"}


async def test_row_errors_name_the_line_in_the_file(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    # A hand-edited export: its createdAt cells (ignored on upload) may span lines.
    content = (
        b"phoneNumber,firstName,createdAt\r\n"  # 1
        b"+12125550100,Ann,x\r\n"  # 2
        b'+12125550101,Bo,"three\r\n'  # 3
        b"line\r\n"  # 4
        b'cell"\r\n'  # 5
        b"12345,Bad,\r\n"  # 6: not a number
        b"\r\n"  # 7: blank
        b"+1 212 555 0100,Again,\r\n"  # 8: duplicate of line 2
        b',"No, phone",\r\n'  # 9: phone missing
        b"+12125550102,Cy,\r\n"  # 10
        b"+12125550103,Di,x"  # 11: no final newline
    )
    job_id = await upload_ok(client, tenant, target["_id"], content)
    await run_jobs()

    report = await job(client, tenant, job_id)
    assert (report["total"], report["processed"]) == (7, 7)
    assert (report["inserted"], report["duplicates"], report["invalid"]) == (4, 1, 2)
    assert [(e["row"], e["field"], e["code"]) for e in report["errors"]] == [
        (6, "phoneNumber", "invalid_phone_number"),
        (8, "phoneNumber", "duplicate"),
        (9, "phoneNumber", "required"),
    ]
    stored = await all_contacts(client, tenant, target["_id"])
    assert [c["firstName"] for c in stored] == ["Ann", "Bo", "Cy", "Di"]
    assert (await get_list(client, tenant, target["_id"]))["columns"] == []


async def test_explicit_mapping(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    content = csv_bytes(
        [
            ["Mobile", "Given", "Surname", "Tier"],
            ["+12125550100", "Ann", "Smith", "gold"],
        ]
    )
    mapping = {"phoneNumber": "mobile", "firstName": "Given"}
    job_id = await upload_ok(client, tenant, target["_id"], content, mapping=mapping, family="v2")
    await run_jobs()

    assert (await job(client, tenant, job_id))["inserted"] == 1
    [ann] = await all_contacts(client, tenant, target["_id"])
    assert (ann["phoneNumber"], ann["firstName"], ann["lastName"]) == ("+12125550100", "Ann", None)
    # Only the mapping's entries feed our fields; every other column is a custom field.
    assert ann["fields"] == {"Surname": "Smith", "Tier": "gold"}
    for family in FAMILIES:
        listed = await get_list_as(client, tenant, target["_id"], family)
        expected = dict.fromkeys(mapping_keys(family), "")
        expected.update(phoneNumber="Mobile", firstName="Given")
        assert listed["mapping"] == expected


async def test_the_most_custom_columns_a_contact_may_have_are_accepted(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    names = [f"c{n}" for n in range(149)] + ["y" * 100]
    content = csv_bytes([["phoneNumber", *names], ["+12125550100", *names]])
    job_id = await upload_ok(client, tenant, target["_id"], content)
    await run_jobs()
    assert (await job(client, tenant, job_id))["inserted"] == 1
    [stored] = await all_contacts(client, tenant, target["_id"])
    assert stored["fields"] == {name: name for name in names}
    assert (await get_list(client, tenant, target["_id"]))["columns"] == names


async def test_multipart_content_type_is_matched_ignoring_case(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    body, content_type = multipart_body(
        [(b'form-data; name="file"; filename="a.csv"', b"phoneNumber\r\n+12125550100\r\n")]
    )
    response = await client.post(
        upload_url("v1", tenant, target["_id"]),
        content=body,
        headers={
            **tenant.headers(),
            "Content-Type": content_type.replace("multipart/form-data", "Multipart/Form-Data"),
        },
    )
    assert response.status_code == 200, response.text
    assert await run_jobs() == 1
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == 1


# ---------------------------------------------------------------- refused before anything is queued


async def assert_nothing_queued(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    list_id: str | None = None,
) -> None:
    assert await run_jobs() == 0
    assert files_under(settings.data_dir) == []
    if list_id is not None:
        listed = await get_list(client, tenant, list_id)
        assert (listed["files"], listed["status"], listed["totalRecordCount"]) == ([], "Ready", 0)


REJECTED_FILES = {
    "empty": (b"", None, "file"),
    "whitespace only": (b" \r\n\t\n   \n", None, "file"),
    "binary": (PNG, None, "file"),
    "invalid utf-8": (b"phoneNumber,name\r\n+12125550100,\xff\xfeAnn\r\n", None, "file"),
    "latin-1": ("phoneNumber,name\n+12125550100,Jürgen\n".encode("latin-1"), None, "file"),
    "header only": (b"\xef\xbb\xbfphoneNumber,firstName\r\n", None, "file"),
    "corrupt gzip": (b"\x1f\x8b\x08\x00garbage", None, "file"),
    "custom column name too long": (
        b"phoneNumber," + b"x" * 101 + b"\r\n+12125550100,1\r\n",
        None,
        "file",
    ),
    "control character in a column name": (
        b"phoneNumber,bell\x07\r\n+12125550100,1\r\n",
        None,
        "file",
    ),
    "too many custom columns": (
        ",".join(["phoneNumber", *(f"c{n}" for n in range(151))]).encode()
        + b"\r\n+12125550100\r\n",
        None,
        "file",
    ),
    "no phone column": (b"name,email\r\nAnn,ann@example.com\r\n", None, "mapping"),
    "unknown field": (b"Mobile\r\n+12125550100\r\n", '{"mobile": "Mobile"}', "mapping"),
    "unknown header": (b"Mobile\r\n+12125550100\r\n", '{"phoneNumber": "Cell"}', "mapping"),
    "mapping not json": (b"Mobile\r\n+12125550100\r\n", '{"phoneNumber": ', "mapping"),
    "mapping not an object": (b"Mobile\r\n+12125550100\r\n", '["Mobile"]', "mapping"),
    "mapping of numbers": (b"Mobile\r\n+12125550100\r\n", '{"phoneNumber": 1}', "mapping"),
    "mapping nested deeply": (b"Mobile\r\n+12125550100\r\n", "[" * 200_000, "mapping"),
}


async def test_unusable_files_are_400_and_nothing_is_queued(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    for case, (content, mapping, field) in REJECTED_FILES.items():
        response = await upload(client, tenant, target["_id"], content, mapping=mapping)
        assert response.status_code == 400, (case, response.text)
        assert_validation_error(response, [field])
        assert files_under(settings.data_dir) == [], case
    await assert_nothing_queued(client, tenant, run_jobs, settings, target["_id"])


async def test_malformed_upload_requests_are_refused_and_leave_nothing(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    url = upload_url("v1", tenant, target["_id"])
    content = csv_bytes([["phoneNumber"], ["+12125550100"]])

    # No `file` part: a file under another name, or the file's text as a plain field.
    for files, data in [
        ({"upload": ("contacts.csv", content, "text/csv")}, {}),
        ({"other": ("x.txt", b"x", "text/plain")}, {"file": content.decode()}),
        ({"other": ("x.txt", b"x", "text/plain")}, {"mapping": "{}"}),
    ]:
        response = await client.post(url, files=files, data=data, headers=tenant.headers())
        assert_validation_error(response, ["file"])

    # A mapping sent as a file (a second file part) is refused, not ignored.
    response = await client.post(
        url,
        files={
            "file": ("a.csv", b"phoneNumber,Mobile\r\n1,+12125550100\r\n", "text/csv"),
            "mapping": ("m.json", b'{"phoneNumber": "Mobile"}', "application/json"),
        },
        headers=tenant.headers(),
    )
    assert_failure(response, 400, "validation_error")
    # Part headers that cannot be parsed.
    for disposition in [
        b'form-data; name="file"; filename="carriage\rreturn.csv"',
        b'form-data; name="file',
    ]:
        body, content_type = multipart_body([(disposition, content)])
        response = await client.post(
            url, content=body, headers={**tenant.headers(), "Content-Type": content_type}
        )
        assert_failure(response, 400, "validation_error")

    # Not multipart at all.
    for media_type in ["text/csv", "application/json", "application/x-www-form-urlencoded", None]:
        headers = tenant.headers()
        if media_type is not None:
            headers["Content-Type"] = media_type
        response = await client.post(url, content=content, headers=headers)
        assert response.status_code == 415, (media_type, response.text)
        assert_failure(response, 415, "unsupported_media_type")

    await assert_nothing_queued(client, tenant, run_jobs, settings, target["_id"])


async def test_upload_into_an_unknown_deleted_or_foreign_list_is_404(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
) -> None:
    content = csv_bytes([["phoneNumber"], ["+12125550100"]])
    mine = await create_list(client, tenant, unique_name)
    gone = await create_list(client, tenant, f"{unique_name} gone")
    deleted = await client.delete(
        Paths("v1", tenant.bot).list(gone["_id"]), headers=tenant.headers()
    )
    assert deleted.status_code == 200, deleted.text
    other_account = await tenants.create(bots=[tenant.bot])
    other_bot = await tenants.create(account_id=tenant.account_id)

    for family in FAMILIES:
        for who, list_id in [
            (tenant, f"cl-{uuid.uuid4()}"),
            (tenant, gone["_id"]),
            (other_account, mine["_id"]),
            (other_bot, mine["_id"]),
        ]:
            response = await upload(client, who, list_id, content, family=family)
            assert_failure(response, 404, "not_found")
    await assert_nothing_queued(client, tenant, run_jobs, settings, mine["_id"])


async def test_a_read_only_app_may_export_but_not_upload(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    reader = await tenants.create(
        scopes=[apps.SCOPE_READ], account_id=tenant.account_id, bots=[tenant.bot]
    )
    content = csv_bytes([["phoneNumber"], ["+12125550100"]])
    for family in FAMILIES:
        response = await upload(client, reader, target["_id"], content, family=family)
        assert_failure(response, 403, "forbidden", code=4003)
        # An empty list exports as its header alone.
        text = await export(client, reader, target["_id"], family)
        assert text == ",".join([*EXPORT_FIXED, "createdAt"]) + "\r\n"
    await assert_nothing_queued(client, tenant, run_jobs, settings, target["_id"])


@pytest.fixture
async def small_upload_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app whose uploads may be at most 4 KiB."""
    async with app_with(settings, max_upload_bytes=4096) as made:
        yield made


def file_of_size(size: int) -> bytes:
    """A CSV file of exactly ``size`` bytes (at least 27)."""
    content = b"phoneNumber\r\n+12125550100\r\n"
    line = b"+12125550101\r\n"
    content += line * ((size - len(content)) // len(line))
    return content + b"\r\n" * ((size - len(content)) // 2) + b" " * ((size - len(content)) % 2)


async def test_a_file_over_the_upload_limit_is_413_and_leaves_nothing(
    small_upload_client: tuple[FastAPI, AsyncClient], settings: Settings, unique_name: str
) -> None:
    application, http = small_upload_client
    run_jobs = application.state.workers.run_until_idle
    tenant = await TenantFactory(application).create()
    target = await create_list(http, tenant, unique_name)

    # Just over: found while the file is stored. Far over: refused before the body is read.
    for size in [4097, 3 * 1024 * 1024]:
        content = file_of_size(size)
        assert len(content) == size
        response = await upload(http, tenant, target["_id"], content)
        assert_failure(response, 413, "payload_too_large")

    # Far over without a Content-Length (chunked): refused once the body passes the bound.
    body, content_type = multipart_body(
        [(b'form-data; name="file"; filename="big.csv"', file_of_size(3 * 1024 * 1024))]
    )
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            sent.append(start)
            yield body[start : start + 64 * 1024]

    response = await http.post(
        upload_url("v1", tenant, target["_id"]),
        content=chunks(),
        headers={**tenant.headers(), "Content-Type": content_type},
    )
    assert "content-length" not in response.request.headers
    assert_failure(response, 413, "payload_too_large")
    assert len(sent) * 64 * 1024 < len(body) // 2, "the body was read to its end"
    await assert_nothing_queued(http, tenant, run_jobs, settings, target["_id"])

    response = await upload(http, tenant, target["_id"], file_of_size(4096))
    assert response.status_code == 200, response.text
    assert await run_jobs() == 1
    assert (await get_list(http, tenant, target["_id"]))["totalRecordCount"] == 2
    assert files_under(settings.data_dir) == []


# ---------------------------------------------------------------- where the file is kept


# An absolute path no one else uses, to see that nothing is written there.
ABSOLUTE = Path(tempfile.gettempdir()) / f"contactlists-upload-{uuid.uuid4().hex}.csv"
HOSTILE_NAMES = [
    b"../../etc/passwd",
    b"..\\..\\windows\\win.ini",
    str(ABSOLUTE).encode(),
    b"evil\x00name.csv",
    b"new\nline.csv",
    b"tab\tescape\x1b[31m\x7f.csv",
    b"..",
    b"  ",
]


async def test_a_hostile_file_name_is_only_a_label(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    tmp_path: Path,
    unique_name: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    before = set(files_under(tmp_path))
    for name in HOSTILE_NAMES:
        body, content_type = multipart_body(
            [
                (
                    b'form-data; name="file"; filename="' + name + b'"',
                    b"phoneNumber\r\n+12125550100\r\n",
                )
            ]
        )
        response = await client.post(
            upload_url("v1", tenant, target["_id"]),
            content=body,
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, (name, response.text)

    # Nothing is written anywhere but under data_dir/uploads, each file under a generated name.
    written = set(files_under(tmp_path)) - before
    assert {path.parent for path in written} == {uploads_dir(settings)}
    recorded = (await get_list(client, tenant, target["_id"]))["files"]
    assert sorted(path.name for path in written) == sorted(
        f"{entry['fileId']}.upload" for entry in recorded
    )
    for name, entry in zip(HOSTILE_NAMES, recorded, strict=True):
        label = entry["fileName"]
        assert label, name
        assert not set(label) & {"/", "\\"}, (name, label)
        assert all(ch.isprintable() for ch in label), (name, label)
        assert label.strip("."), (name, label)
    assert [entry["fileName"] for entry in recorded][:3] == ["passwd", "win.ini", ABSOLUTE.name]
    assert not ABSOLUTE.exists()

    assert await run_jobs() == len(HOSTILE_NAMES)
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == 1
    assert set(files_under(tmp_path)) == before


async def test_the_uploaded_copy_is_deleted_when_the_list_goes_first(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, settings: Settings, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    job_id = await upload_ok(
        client, tenant, target["_id"], csv_bytes([["phoneNumber"], ["+12125550100"]])
    )
    deleted = await client.delete(
        Paths("v1", tenant.bot).list(target["_id"]), headers=tenant.headers()
    )
    assert deleted.status_code == 200, deleted.text
    # The delete cancels the queued import: no worker will read the file.
    assert (await job(client, tenant, job_id))["state"] == "cancelled"
    assert files_under(settings.data_dir) == []


async def test_cancelling_a_queued_upload_removes_its_file_at_once(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, settings: Settings, unique_name: str
) -> None:
    await run_jobs()
    target = await create_list(client, tenant, unique_name)
    job_id = await upload_ok(
        client, tenant, target["_id"], csv_bytes([["phoneNumber"], ["+12125550100"]])
    )
    assert len(files_under(settings.data_dir)) == 1
    response = await client.post(
        f"{Paths('v1', tenant.bot).prefix}/jobs/{job_id}/cancel", headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["state"] == "cancelled"
    # No worker will ever claim the job, so nothing else would remove the file.
    assert files_under(settings.data_dir) == []
    await run_jobs()
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == 0


async def test_a_list_deleted_during_its_import_cancels_the_job_and_removes_the_file(
    settings: Settings, unique_name: str
) -> None:
    async with app_with(settings, import_batch_rows=1) as (application, http):
        tenant = await TenantFactory(application).create()
        target = await create_list(http, tenant, unique_name)
        content = csv_bytes([["phoneNumber"], *([f"+1212555{n:04d}"] for n in range(500))])
        job_id = await upload_ok(http, tenant, target["_id"], content)

        worker = asyncio.create_task(application.state.workers.run_until_idle())
        for _ in range(1000):
            if worker.done() or (await job(http, tenant, job_id))["processed"] > 0:
                break
            await asyncio.sleep(0.005)
        assert not worker.done(), "the import ended before the list could be deleted"
        deleted = await http.delete(
            Paths("v1", tenant.bot).list(target["_id"]), headers=tenant.headers()
        )
        assert deleted.status_code == 200, deleted.text
        await asyncio.wait_for(worker, 30)

        report = await job(http, tenant, job_id)
        assert report["state"] == "cancelled"
        assert 0 < report["processed"] < 500
        assert files_under(settings.data_dir) == []


async def test_damage_past_the_first_64_kib_is_refused_before_anything_is_queued(
    settings: Settings, unique_name: str
) -> None:
    """The whole file is read before its import is queued, not only its first 64 KiB."""
    async with app_with(settings, import_batch_rows=500) as (application, http):
        tenant = await TenantFactory(application).create()
        target = await create_list(http, tenant, unique_name)
        good = [[f"+1212555{n:04d}", "x" * 60] for n in range(1200)]
        content = csv_bytes([["phoneNumber", "note"], *good]) + b"\xff\xfe\r\n"
        assert len(content) > 80 * 1024

        response = await upload(http, tenant, target["_id"], content)

        assert_validation_error(response, ["file"])
        assert "not UTF-8" in response.json()["message"]
        assert await application.state.workers.run_until_idle() == 0
        listed = await get_list(http, tenant, target["_id"])
        assert listed["totalRecordCount"] == 0
        assert files_under(settings.data_dir) == []


# ---------------------------------------------------------------- export


CUSTOM_ITEMS: list[dict[str, Any]] = [
    {"phoneNumber": "+1 212 555 0100", "firstName": "Ann", "email": "ann@example.com",
     "tier": "gold"},
    {"phoneNumber": "+44 20 7946 0000", "lastName": "O'Brien, Jr.", "tier": 'say "hi"',
     "city": "Köln", "uniqueId": "u-2", "contactPriority": "3"},
    {"phoneNumber": "+12125550101", "timeZone": "America/Chicago", "email": "  padded  ",
     "note": "tab\there"},
]  # fmt: skip


async def test_export_is_every_contact_in_order_with_the_lists_columns(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, CUSTOM_ITEMS)
    await run_jobs()
    contacts = await all_contacts(client, tenant, target["_id"])
    custom = ["email", "tier", "city", "note"]
    assert (await get_list(client, tenant, target["_id"]))["columns"] == custom

    for family in FAMILIES:
        header, *rows = export_rows(await export(client, tenant, target["_id"], family))
        assert header == [*EXPORT_FIXED, *custom, "createdAt"]
        assert rows == [
            [
                c["_id"],
                c["phoneNumber"],
                c["firstName"] or "",
                c["lastName"] or "",
                c["timeZone"] or "",
                c["uniqueId"] or "",
                c["contactPriority"] or "",
                *(c["fields"].get(column, "") for column in custom),
                c["createdAt"],
            ]
            for c in contacts
        ]
        assert rows[1][1:11] == [
            "+442079460000", "", "O'Brien, Jr.", "Europe/London", "u-2", "3",
            "", 'say "hi"', "Köln", "",
        ]  # fmt: skip


async def test_export_is_streamed(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    phones = [f"+1212555{n:04d}" for n in range(2500)]
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": p} for p in phones])
    await run_jobs()

    recorder = BodyRecorder(app)
    async with (
        AsyncClient(transport=ASGITransport(app=recorder), base_url="http://test") as http,
        http.stream(
            "GET", export_url("v2", tenant, target["_id"]), headers=tenant.headers()
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "content-length" not in response.headers
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    # The header, then the contacts a page at a time, not one body built in memory.
    assert len(recorder.chunks) > 2, [len(chunk) for chunk in recorder.chunks]
    assert b"".join(recorder.chunks) == body
    header, *rows = export_rows(body.decode())
    assert header[0] == "_id"
    assert [row[1] for row in rows] == phones


async def test_export_of_an_unknown_deleted_or_foreign_list_is_404(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory, unique_name: str
) -> None:
    mine = await create_list(client, tenant, unique_name)
    gone = await create_list(client, tenant, f"{unique_name} gone")
    await client.delete(Paths("v1", tenant.bot).list(gone["_id"]), headers=tenant.headers())
    other_account = await tenants.create(bots=[tenant.bot])
    other_bot = await tenants.create(account_id=tenant.account_id)
    for family in FAMILIES:
        for who, list_id in [
            (tenant, f"cl-{uuid.uuid4()}"),
            (tenant, gone["_id"]),
            (other_account, mine["_id"]),
            (other_bot, mine["_id"]),
        ]:
            response = await client.get(export_url(family, who, list_id), headers=who.headers())
            assert_failure(response, 404, "not_found")


def contact_data(export_text: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of an export without `_id` and `createdAt`."""
    header, *rows = export_rows(export_text)
    return header[1:-1], [row[1:-1] for row in rows]


async def test_an_export_uploads_back_unchanged(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    source = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, CUSTOM_ITEMS)
    await run_jobs()
    exported = await export(client, tenant, source["_id"], "v1")

    copy = await create_list(client, tenant, f"{unique_name} copy")
    job_id = await upload_ok(
        client, tenant, copy["_id"], exported.encode(), file_name="export.csv", family="v2"
    )
    await run_jobs()

    report = await job(client, tenant, job_id)
    assert (report["state"], report["inserted"], report["errors"]) == (
        "completed",
        len(CUSTOM_ITEMS),
        [],
    )
    again = await export(client, tenant, copy["_id"], "v2")
    assert contact_data(again) == contact_data(exported)
    assert contact_data(again)[0] == [*EXPORT_FIXED[1:], "email", "tier", "city", "note"]
    assert len(contact_data(again)[1]) == len(CUSTOM_ITEMS)
    source_columns = (await get_list(client, tenant, source["_id"]))["columns"]
    assert (await get_list(client, tenant, copy["_id"]))["columns"] == source_columns


async def test_an_export_with_look_alike_custom_columns_uploads_back(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    source = await create_list(client, tenant, unique_name)
    items = [{"phoneNumber": "+12125550100", "Phone Number": "work", "email": "a", "Email": "b"}]
    await add_contacts(client, tenant, unique_name, items)
    await run_jobs()
    exported = await export(client, tenant, source["_id"])

    copy = await create_list(client, tenant, f"{unique_name} copy")
    await upload_ok(client, tenant, copy["_id"], exported.encode())
    await run_jobs()
    assert contact_data(await export(client, tenant, copy["_id"])) == contact_data(exported)


# ---------------------------------------------------------------- size


async def test_twenty_thousand_rows_import_completely(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, settings: Settings, unique_name: str
) -> None:
    rows = 20_000
    target = await create_list(client, tenant, unique_name)
    lines = ["phoneNumber,firstName,seq"]
    area = ("212", "646")
    lines += [f"+1{area[n // 10_000]}555{n % 10_000:04d},Name {n},{n}" for n in range(rows)]
    content = ("\r\n".join(lines) + "\r\n").encode()
    job_id = await upload_ok(client, tenant, target["_id"], content)

    assert await run_jobs() == 1
    report = await job(client, tenant, job_id)
    assert report["state"] == "completed"
    assert (report["total"], report["processed"], report["inserted"]) == (rows, rows, rows)
    assert (report["duplicates"], report["invalid"]) == (0, 0)
    listed = await get_list(client, tenant, target["_id"])
    assert (listed["totalRecordCount"], listed["status"]) == (rows, "Ready")

    response = await client.get(
        f"{Paths('v1', tenant.bot).list(target['_id'])}/getAllContacts",
        params={"skip": rows - 3, "limit": 10},
        headers=tenant.headers(),
    )
    last = response.json()["data"]["results"]
    assert [c["fields"]["seq"] for c in last] == [str(n) for n in range(rows - 3, rows)]
    assert files_under(settings.data_dir) == []
