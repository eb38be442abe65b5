"""``Client.contacts`` against a real service: adding, uploading files, paging, iterating,
exporting, and single contacts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from contactlists.client import (
    Client,
    Contact,
    ContactFilter,
    ContactsDeleted,
    ContactsPage,
    Job,
    JobAccepted,
    NotFoundError,
    ValidationFailedError,
)
from tests.support.live import LiveService
from tests.support.sdk import (
    LIST_ID,
    Recorder,
    accepted_answer,
    csv_file,
    people,
    phone,
    pipe_with,
    read_csv,
)
from tests.support.workbooks import write_workbook

WAIT = {"poll_interval": 0.05, "timeout": 60.0}


def finished(api: Client, accepted: JobAccepted) -> Job:
    job = api.jobs.wait(accepted.jobId, **WAIT)
    assert job.state == "completed", job
    return job


def filled(api: Client, name: str, count: int, **extra: str) -> str:
    """A new list with ``count`` contacts added through addContacts; its id."""
    created = api.lists.create(name)
    finished(api, api.contacts.add(name, people(count, **extra)))
    return created.id


# ---------------------------------------------------------------- add and upload


def test_add_queues_a_job_that_stores_the_contacts(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Added")
        accepted = api.contacts.add(
            "added",  # names match case-insensitively
            [
                {"phoneNumber": "(415) 555-0100", "firstName": "Ada", "plan": "gold"},
                {"phoneNumber": "+44 20 7946 0958", "timeZone": "Europe/London"},
                {"phoneNumber": "not a number"},
            ],
        )
        job = api.jobs.wait(accepted.jobId, **WAIT)
        page = api.contacts.page(created.id)

    assert isinstance(accepted, JobAccepted)
    assert accepted.message == "Adding contacts to public list is in progress"
    assert (job.type, job.contactListId, job.total, job.inserted, job.invalid) == (
        "add_contacts",
        created.id,
        3,
        2,
        1,
    )
    assert [(c.phoneNumber, c.firstName, c.timeZone, c.fields) for c in page.results] == [
        ("+14155550100", "Ada", "America/Los_Angeles", {"plan": "gold"}),
        ("+442079460958", None, "Europe/London", {}),
    ]


UPLOADED = [
    ["Phone", "Given name", "Family name", "Tier"],
    [phone(1), "Ann", "Lee", "gold"],
    [phone(2), "Bob", "Ray", "silver"],
    [phone(3), "Cy", "Dee", "bronze"],
]
MAPPING = {"phoneNumber": "Phone", "firstName": "Given name", "lastName": "Family name"}


def uploaded(api: Client, list_id: str) -> list[tuple[str, str | None, str | None, dict[str, str]]]:
    return [(c.phoneNumber, c.firstName, c.lastName, c.fields) for c in api.contacts.list(list_id)]


EXPECTED_UPLOAD = [
    (phone(1), "Ann", "Lee", {"Tier": "gold"}),
    (phone(2), "Bob", "Ray", {"Tier": "silver"}),
    (phone(3), "Cy", "Dee", {"Tier": "bronze"}),
]


def test_add_stores_kore_ais_sample_number_unverified(live: LiveService) -> None:
    """Kore.ai's documented sample number is no valid number, but a plausible one."""
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Renewal Due - July 2025")
        job = finished(
            api,
            api.contacts.add("Renewal Due - July 2025", [{"phoneNumber": "9122333445566"}]),
        )
        (contact,) = api.contacts.page(created.id).results

    assert (job.inserted, job.invalid, job.unverified) == (1, 0, 1)
    assert (contact.phoneNumber, contact.phoneVerified) == ("+9122333445566", False)


@pytest.mark.parametrize("compress", [False, True], ids=["csv", "gzip"])
@pytest.mark.parametrize("source", ["path", "str path", "bytes", "open file", "BytesIO"])
def test_upload_from_any_source_with_a_mapping(
    live: LiveService, tmp_path: Path, source: str, compress: bool
) -> None:
    data = csv_file(UPLOADED, compress=compress)
    name = "people.csv.gz" if compress else "people.csv"
    path = tmp_path / name
    path.write_bytes(data)
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Uploaded")
        if source == "path":
            accepted = api.contacts.upload(created.id, path, mapping=MAPPING)
        elif source == "str path":
            accepted = api.contacts.upload(created.id, str(path), mapping=MAPPING)
        elif source == "bytes":
            accepted = api.contacts.upload(created.id, data, mapping=MAPPING, file_name=name)
        elif source == "open file":
            with path.open("rb") as file:
                accepted = api.contacts.upload(created.id, file, mapping=MAPPING)
        else:
            accepted = api.contacts.upload(
                created.id, io.BytesIO(data), mapping=MAPPING, file_name=name
            )
        job = finished(api, accepted)
        got = api.lists.get(created.id)
        contacts = uploaded(api, created.id)

    assert accepted.message == f"File {name} is being imported"
    assert (job.type, job.inserted, job.invalid) == ("upload", 3, 0)
    assert [ref.fileName for ref in got.files] == [name]
    assert got.source == "passiveApi"
    assert got.totalRecordCount == 3
    assert contacts == EXPECTED_UPLOAD


def test_upload_of_a_workbook_and_of_a_csv_in_another_encoding(
    live: LiveService, tmp_path: Path
) -> None:
    workbook = tmp_path / "people.xlsx"
    write_workbook(workbook, UPLOADED)
    accented = [["Phone", "Given name", "Family name", "Tier"], [phone(4), "José", "Muñoz", "€"]]
    tenant = live.tenant()
    with tenant.client() as api:
        from_sheet = api.lists.create("From a sheet")
        finished(api, api.contacts.upload(from_sheet.id, workbook, mapping=MAPPING))
        in_cp1252 = api.lists.create("In cp1252")
        data = csv_file(accented).decode().encode("cp1252")
        with pytest.raises(ValidationFailedError, match="send encoding=cp1252"):
            api.contacts.upload(in_cp1252.id, data, mapping=MAPPING)
        accepted = api.contacts.upload(in_cp1252.id, data, mapping=MAPPING, encoding="cp1252")
        finished(api, accepted)
        assert uploaded(api, from_sheet.id) == EXPECTED_UPLOAD
        assert [ref.fileName for ref in api.lists.get(from_sheet.id).files] == ["people.xlsx"]
        assert uploaded(api, in_cp1252.id) == [(phone(4), "José", "Muñoz", {"Tier": "€"})]


def test_upload_without_a_mapping_matches_headers_loosely(live: LiveService) -> None:
    data = csv_file([["Phone Number", "first_name"], [phone(7), "Dee"]])
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Loose")
        finished(api, api.contacts.upload(created.id, data))
        (contact,) = api.contacts.list(created.id)
        got = api.lists.get(created.id)
    assert (contact.phoneNumber, contact.firstName) == (phone(7), "Dee")
    # Bytes without a file name are sent as contacts.csv.
    assert [ref.fileName for ref in got.files] == ["contacts.csv"]


def test_upload_reports_its_progress_to_the_last_byte(live: LiveService, tmp_path: Path) -> None:
    rows = [["phoneNumber", "firstName"]] + [[phone(n), f"N{n}"] for n in range(300)]
    path = tmp_path / "progress.csv"
    path.write_bytes(csv_file(rows))
    reports: list[tuple[int, int | None]] = []
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Progress")
        job = finished(
            api, api.contacts.upload(created.id, path, on_progress=lambda *a: reports.append(a))
        )

    size = path.stat().st_size
    assert job.inserted == 300
    assert reports, "no progress was reported"
    assert all(total == size for _, total in reports)
    sent = [done for done, _ in reports]
    assert sent == sorted(sent)
    assert sent[-1] == size


def test_upload_from_a_pipe_is_streamed_whole(live: LiveService) -> None:
    # A pipe reports a size of 0: sent with that length, the file would be cut short.
    data = csv_file([["phoneNumber"]] + [[phone(n)] for n in range(300)])
    reports: list[tuple[int, int | None]] = []
    tenant = live.tenant()
    with tenant.client() as api, pipe_with(data) as source:
        created = api.lists.create("Piped")
        accepted = api.contacts.upload(
            created.id, source, on_progress=lambda *report: reports.append(report)
        )
        job = finished(api, accepted)
        got = api.lists.get(created.id)

    assert (job.total, job.inserted) == (300, 300)
    # A file opened from a descriptor has no name of its own.
    assert [ref.fileName for ref in got.files] == ["contacts.csv"]
    assert reports[-1] == (len(data), None)


def test_standard_input_is_uploaded_as_contacts_csv() -> None:
    class Stdin(io.BytesIO):
        name = "<stdin>"

    fake = Recorder([accepted_answer()])
    with fake.client() as api:
        api.contacts.upload(LIST_ID, Stdin(b"phoneNumber\r\n+14155550100\r\n"))
    assert b'filename="contacts.csv"' in fake.bodies[0]


def test_an_unreadable_upload_is_refused_before_anything_is_queued(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Empty file")
        with pytest.raises(ValidationFailedError):
            api.contacts.upload(created.id, b"")
        with pytest.raises(NotFoundError):
            api.contacts.upload("cl-00000000-0000-4000-8000-000000000000", csv_file(UPLOADED))
        assert api.lists.get(created.id).files == []


# ---------------------------------------------------------------- paging and iterating


def test_pages_by_skip_and_limit_or_by_cursor(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Paged", 25)
        first = api.contacts.page(list_id, limit=10)
        second = api.contacts.page(list_id, skip=10, limit=10)
        assert first.nextCursor is not None
        by_cursor = api.contacts.page(list_id, limit=10, cursor=first.nextCursor)
        last = api.contacts.page(list_id, skip=20, limit=10)
        default = api.contacts.page(list_id)

    assert isinstance(first, ContactsPage)
    assert all(isinstance(contact, Contact) for contact in first.results)
    assert [c.phoneNumber for c in first.results] == [phone(n) for n in range(10)]
    assert by_cursor.results == second.results
    assert [c.phoneNumber for c in last.results] == [phone(n) for n in range(20, 25)]
    assert (first.hasMore, last.hasMore) == (True, False)
    assert (first.totalResults, first.totalPages) == (25, 3)
    assert (default.skip, default.limit, len(default.results)) == (0, 50, 25)


def test_list_follows_the_cursor_over_every_page(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Iterated", 230)
        requested: list[dict[str, Any]] = []
        paging = api.contacts.page

        def spy(list_id: str, **options: Any) -> ContactsPage:
            requested.append(options)
            return paging(list_id, **options)

        api.contacts.page = spy  # type: ignore[method-assign]
        contacts = list(api.contacts.list(list_id, page_size=100))

    assert [c.phoneNumber for c in contacts] == [phone(n) for n in range(230)]
    assert len({c.id for c in contacts}) == 230
    assert len(requested) == 3
    assert requested[0] == {"limit": 100, "skip": None, "filters": None}
    assert all(options["cursor"] for options in requested[1:])
    assert requested[1]["cursor"] != requested[2]["cursor"]


def test_filters_narrow_pages_iteration_and_export(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Filtered", 230)
        finished(api, api.contacts.add("Filtered", [{**people(1, start=300)[0], "plan": "gold"}]))
        # First1, First10…First19, First100…First199: 111 contacts.
        by_name = ContactFilter(search="FIRST1")
        page = api.contacts.page(list_id, limit=50, filters=by_name)
        second = api.contacts.page(list_id, limit=50, cursor=page.nextCursor, filters=by_name)
        iterated = list(api.contacts.list(list_id, page_size=40, filters=by_name))
        buffer = io.BytesIO()
        exported = api.contacts.export(list_id, buffer, filters=by_name)
        written = phone(7).replace("+1", "").replace(" ", "")
        by_phone = list(api.contacts.list(list_id, filters=ContactFilter(phone_number=written)))
        by_field = list(api.contacts.list(list_id, filters=ContactFilter(fields={"plan": "gold"})))
        with pytest.raises(ValidationFailedError) as refused:
            api.contacts.page(list_id, filters=ContactFilter(time_zone="Mars/Olympus"))
        with pytest.raises(ValidationFailedError):
            api.contacts.page(list_id, cursor=page.nextCursor)

    expected = [phone(n) for n in range(230) if str(n).startswith("1")]
    assert len(expected) == 111
    assert [c.phoneNumber for c in page.results] == expected[:50]
    assert (page.totalResults, page.totalPages, page.hasMore) == (None, None, True)
    assert [c.phoneNumber for c in second.results] == expected[50:100]
    assert [c.phoneNumber for c in iterated] == expected
    assert exported == 111
    assert [row["phoneNumber"] for row in read_csv(buffer.getvalue())] == expected
    assert [c.phoneNumber for c in by_phone] == [phone(7)]
    assert [c.phoneNumber for c in by_field] == [phone(300)]
    assert "timeZone" in str(refused.value)


def test_list_of_an_empty_list_yields_nothing(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Nobody")
        assert list(api.contacts.list(created.id)) == []


# ---------------------------------------------------------------- export


def test_export_to_a_path_and_to_a_file_counts_the_contacts(
    live: LiveService, tmp_path: Path
) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        # Custom cells with line breaks: one contact, several lines of CSV.
        list_id = filled(api, "Exported", 120, note="line one\nline two")
        progress: list[int] = []
        to_path = api.contacts.export(list_id, tmp_path / "out.csv", on_progress=progress.append)
        buffer = io.BytesIO()
        to_file = api.contacts.export(list_id, buffer)
        contacts = list(api.contacts.list(list_id))

    assert to_path == to_file == 120
    data = (tmp_path / "out.csv").read_bytes()
    assert data == buffer.getvalue()
    rows = read_csv(data)
    assert [row["_id"] for row in rows] == [c.id for c in contacts]
    assert {row["note"] for row in rows} == {"line one\nline two"}
    assert progress, "no progress was reported"
    assert progress == sorted(progress)
    assert progress[-1] == 120


def test_an_export_imports_back_unchanged(live: LiveService, tmp_path: Path) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Source", 30, plan="basic")
        exported = tmp_path / "source.csv"
        assert api.contacts.export(list_id, exported) == 30
        copy = api.lists.create("Copy")
        finished(api, api.contacts.upload(copy.id, exported))
        original = [(c.phoneNumber, c.firstName, c.fields) for c in api.contacts.list(list_id)]
        copied = [(c.phoneNumber, c.firstName, c.fields) for c in api.contacts.list(copy.id)]
    assert copied == original


def test_export_of_an_empty_list_is_its_header(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Hollow")
        buffer = io.BytesIO()
        assert api.contacts.export(created.id, buffer) == 0
    assert buffer.getvalue().decode().startswith("_id,phoneNumber,")
    assert read_csv(buffer.getvalue()) == []


def test_export_of_an_unknown_list_is_not_found(live: LiveService, tmp_path: Path) -> None:
    tenant = live.tenant()
    with tenant.client() as api, pytest.raises(NotFoundError):
        api.contacts.export("cl-00000000-0000-4000-8000-000000000000", io.BytesIO())


# ---------------------------------------------------------------- single contacts


def test_get_update_and_delete_one_contact(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Singles", 3, plan="gold")
        first, second, third = api.contacts.list(list_id)

        got = api.contacts.get(list_id, first.id)
        changed = api.contacts.update(
            list_id, first.id, {"firstName": "Renamed", "plan": None, "extra": "yes"}
        )
        again = api.contacts.get(list_id, first.id)
        removed = api.contacts.delete(list_id, second.id)

        assert got == first
        assert (changed.firstName, changed.fields) == ("Renamed", {"extra": "yes"})
        assert changed.updatedAt >= first.updatedAt
        assert again == changed
        assert removed == second
        with pytest.raises(NotFoundError):
            api.contacts.get(list_id, second.id)
        with pytest.raises(NotFoundError):
            api.contacts.delete(list_id, second.id)
        with pytest.raises(ValidationFailedError) as raised:
            api.contacts.update(list_id, third.id, {"phoneNumber": "nope"})
        assert [entry.field for entry in raised.value.errors] == ["phoneNumber"]
        assert [c.id for c in api.contacts.list(list_id)] == [first.id, third.id]
        assert api.lists.get(list_id).totalRecordCount == 2


def test_delete_many_reports_what_it_did_not_find(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        list_id = filled(api, "Bulk", 5)
        ids = [c.id for c in api.contacts.list(list_id)]
        missing = "cc-00000000-0000-4000-8000-000000000000"

        result = api.contacts.delete_many(list_id, iter([ids[0], ids[3], missing]))
        again = api.contacts.delete_many(list_id, [ids[0]])

        assert isinstance(result, ContactsDeleted)
        assert (result.deleted, result.notFound) == (2, [missing])
        assert (again.deleted, again.notFound) == (0, [ids[0]])
        assert [c.id for c in api.contacts.list(list_id)] == [ids[1], ids[2], ids[4]]
        assert api.lists.get(list_id).totalRecordCount == 3
