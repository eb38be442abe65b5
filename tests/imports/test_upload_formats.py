"""Excel workbooks and CSV files in other encodings, uploaded over HTTP (imports.readers).

The readers themselves are covered by test_xlsx_files and test_encodings; here what the upload
route answers and what the import stores.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from contactlists.config import Settings
from contactlists.imports import readers
from contactlists.imports.csv_files import FileLimits
from tests.support.contacts import all_contacts, create_list, get_list, job
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.tenants import Tenant
from tests.support.uploads import app_with, csv_bytes, files_under, upload, upload_ok
from tests.support.workbooks import XLSX_TYPE, replaced, workbook_bytes, write_workbook

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
ROWS = 100_000
HEADER = ["phoneNumber", "firstName", "lastName", "Balance", "Since"]
NAMES = ["José", "Renée", "François", "Zoë", "Ñandú", "Björn", "Ann"]
ACCENTED = [
    ["phoneNumber", "firstName", "lastName", "city", "notes"],
    ["+12125550100", "José", "Muñoz", "Düsseldorf", "paid 5 €"],
    ["+12125550101", "Renée", "Ibáñez", "Zürich", "señor"],
    ["+12125550102", "François", "Müller", "München", "über"],
]


@dataclass(frozen=True)
class SameRows:
    """One set of rows as a workbook (typed cells) and as the CSV a spreadsheet would export."""

    xlsx: Path
    csv: Path
    # The workbook's parts inflated: what reading it whole into memory would take at least.
    expanded_bytes: int


@pytest.fixture(scope="session")
def same_rows(tmp_path_factory: pytest.TempPathFactory) -> SameRows:
    directory = tmp_path_factory.mktemp("same-rows")
    typed: list[list[Any]] = []
    texts: list[list[str]] = []
    for n in range(ROWS):
        # Half the phone numbers are numbers, as a spreadsheet keeps typed digits.
        phone: Any = 12125550000 + n if n % 2 else f"+1646{n:07d}"
        since = date(2020, 1, 1) + timedelta(days=n % 1000)
        typed.append([phone, NAMES[n % len(NAMES)], f"Lee {n}", n / 4, since])
        # As a spreadsheet exports them: 2.0 is "2", as Excel keeps no difference.
        balance = str(n // 4) if n % 4 == 0 else str(n / 4)
        texts.append([str(phone), NAMES[n % len(NAMES)], f"Lee {n}", balance, str(since)])
    xlsx = directory / "rows.xlsx"
    write_workbook(xlsx, [HEADER, *typed])
    csv = directory / "rows.csv"
    csv.write_bytes(csv_bytes([HEADER, *texts]))
    with zipfile.ZipFile(xlsx) as archive:
        expanded = sum(part.file_size for part in archive.infolist())
    return SameRows(xlsx, csv, expanded)


@pytest.mark.timeout(900)
def test_reading_a_large_workbook_takes_bounded_memory(same_rows: SameRows) -> None:
    limits = FileLimits(decompressed_bytes=1 << 40, ratio=1000)
    file_format, mapping = readers.inspect(same_rows.xlsx, None, limits)
    # Around what the import job runs: the whole sheet, read row by row.
    tracemalloc.start()
    try:
        count = 0
        for _ in readers.read_rows(same_rows.xlsx, mapping, {"format": file_format}, 0):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == ROWS
    # Streamed: about half a megabyte whatever the rows. (Reading through openpyxl's worksheet,
    # which parses a sheet declaring no dimension whole first and keeps an element per row,
    # grew with the rows: 4.9 MB at 50,000 of them.)
    assert peak < same_rows.expanded_bytes / 10, (peak, same_rows.expanded_bytes)


@pytest.mark.timeout(900)
async def test_a_workbook_imports_exactly_as_the_same_rows_in_csv(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
    same_rows: SameRows,
) -> None:
    stored: dict[str, list[dict[str, Any]]] = {}
    for kind, path in [("csv", same_rows.csv), ("xlsx", same_rows.xlsx)]:
        target = await create_list(client, tenant, f"{unique_name} {kind}")
        job_id = await upload_ok(
            client, tenant, target["_id"], path.read_bytes(), file_name=path.name
        )
        assert await run_jobs() == 1
        report = await job(client, tenant, job_id)
        assert (report["state"], report["inserted"], report["invalid"]) == ("completed", ROWS, 0)
        assert (await get_list(client, tenant, target["_id"]))["columns"] == HEADER[3:]
        stored[kind] = await all_contacts(client, tenant, target["_id"])
    assert files_under(settings.data_dir) == []

    def compared(contact: dict[str, Any]) -> tuple[Any, ...]:
        fields = ("phoneNumber", "firstName", "lastName", "timeZone", "fields")
        return tuple(contact[name] for name in fields)

    assert len(stored["xlsx"]) == ROWS
    assert [compared(c) for c in stored["xlsx"]] == [compared(c) for c in stored["csv"]]
    first, second = stored["xlsx"][:2]
    assert (first["phoneNumber"], first["firstName"]) == ("+16460000000", "José")
    assert second["phoneNumber"] == "+12125550001"  # a number cell, not 1.2125550001E+10
    assert second["fields"] == {"Balance": "0.25", "Since": "2020-01-02"}
    assert stored["xlsx"][4]["fields"]["Balance"] == "1"  # 1.0, an integer, shown as one


async def test_a_small_workbook_is_recorded_under_its_name(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    content = workbook_bytes([["Phone Number", "First Name"], [2125550100, "Ann"]])
    # The encoding field is for CSV: a workbook's XML says its own.
    response = await upload(
        client,
        tenant,
        target["_id"],
        content,
        file_name="Renewals.xlsx",
        media_type=XLSX_TYPE,
        encoding="utf-16",
        family="v2",
    )
    assert response.status_code == 200, response.text
    await run_jobs()
    [ann] = await all_contacts(client, tenant, target["_id"])
    # Ten digits without a country: the list's default region makes it a US number.
    assert (ann["phoneNumber"], ann["firstName"]) == ("+12125550100", "Ann")
    listed = await get_list(client, tenant, target["_id"])
    assert [f["fileName"] for f in listed["files"]] == ["Renewals.xlsx"]


@pytest.mark.parametrize(
    ("codec", "named"), [("cp1252", "cp1252"), ("mac_roman", "mac-roman"), ("utf-16", "utf-16")]
)
async def test_a_csv_in_another_encoding_imports_with_it_and_is_refused_without(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    settings: Settings,
    unique_name: str,
    codec: str,
    named: str,
) -> None:
    target = await create_list(client, tenant, unique_name)
    content = csv_bytes(ACCENTED).decode().encode(codec)

    refused = await upload(client, tenant, target["_id"], content)
    assert_failure(refused, 400, "validation_error")
    assert_validation_error(refused, ("file",))
    message = refused.json()["message"]
    assert f"not UTF-8 text (or it is binary); it looks like {named}" in message or (
        f"it contains NUL bytes); it looks like {named}" in message
    ), message
    assert f"send encoding={named}" in message
    assert files_under(settings.data_dir) == []

    job_id = await upload_ok(client, tenant, target["_id"], content, encoding=codec)
    await run_jobs()
    assert (await job(client, tenant, job_id))["inserted"] == 3
    stored = await all_contacts(client, tenant, target["_id"])
    assert [[c["firstName"], c["lastName"], *c["fields"].values()] for c in stored] == [
        row[1:] for row in ACCENTED[1:]
    ]


async def test_an_unknown_encoding_is_refused_naming_the_field(
    client: AsyncClient, tenant: Tenant, settings: Settings, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    response = await upload(client, tenant, target["_id"], csv_bytes(ACCENTED), encoding="klingon")
    assert_failure(response, 400, "validation_error")
    assert_validation_error(response, ("encoding",))
    assert "unknown encoding 'klingon'" in response.json()["message"]
    assert files_under(settings.data_dir) == []


async def test_a_workbook_bomb_is_413_and_leaves_nothing(
    settings: Settings, tenant: Tenant, unique_name: str
) -> None:
    bomb = replaced(
        workbook_bytes([["phoneNumber"], ["+12125550100"]]), {"xl/padding.bin": b" " * (32 << 20)}
    )
    async with app_with(settings, max_compression_ratio=50) as (_, http):
        target = await create_list(http, tenant, unique_name)
        response = await upload(http, tenant, target["_id"], bomb, file_name="bomb.xlsx")
    assert_failure(response, 413, "payload_too_large")
    assert "more than 50 times" in response.json()["message"]
    assert files_under(settings.data_dir) == []
