"""``contactlists contacts``: add, import, list and export the contacts of a list."""

from __future__ import annotations

import gzip
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from contactlists.cli._connection import Session, command
from contactlists.cli._output import (
    CommandFailure,
    UsageFailure,
    as_json,
    cell,
    id_column,
    listing,
)
from contactlists.cli._progress import Meter
from contactlists.cli.jobs import TimeoutOption, WaitOption, follow, report
from contactlists.client import Contact, ContactFilter, JobAccepted
from contactlists.client._rows import RecordCounter

app = typer.Typer(help="Contacts of a list: add, import a CSV file, list, export as CSV.")


class OnDuplicate(StrEnum):
    skip = "skip"
    update = "update"


OnDuplicateOption = Annotated[
    OnDuplicate,
    typer.Option(
        "--on-duplicate",
        help="A row matching a contact of the list (by its dedupe key): skip it, or update the "
        "contact's given fields (undo with `contactlists jobs undo`).",
    ),
]


def on_duplicate_sent(choice: OnDuplicate) -> Literal["update"] | None:
    """What the request says: nothing for skip, the default (so a request to Kore.ai stays
    one of its own)."""
    return "update" if choice is OnDuplicate.update else None


ListId = Annotated[str, typer.Argument(help="The list's id (cl-…).", show_default=False)]
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20


# ---------------------------------------------------------------- input


def parse_mapping(mapping: str | None, pairs: list[str] | None) -> dict[str, str] | None:
    """``--mapping`` (a JSON object) and then ``--map field=Header`` pairs, as one mapping."""
    result: dict[str, str] = {}
    if mapping is not None:
        try:
            parsed = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise UsageFailure(f"--mapping is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict) or not all(
            isinstance(value, str) for value in parsed.values()
        ):
            raise UsageFailure(
                "--mapping must be a JSON object of field names to headers, e.g. "
                '\'{"phoneNumber": "Phone"}\''
            )
        result.update(parsed)
    for pair in pairs or []:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header:
            raise UsageFailure(f"--map takes field=Header, e.g. phoneNumber=Phone, not {pair!r}")
        result[field.strip()] = header
    return result or None


def csv_chunks(path: Path) -> Iterator[bytes]:
    """The file's CSV bytes in chunks, decompressed when it is gzip (by its first bytes)."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        with gzip.open(raw, "rb") if gzipped else raw as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk


def is_zip(path: Path) -> bool:
    """Whether the file is a zip archive (an .xlsx workbook), whatever its name."""
    try:
        with path.open("rb") as opened:
            return opened.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def count_rows(path: Path) -> int | None:
    """Data rows in a CSV file (records less the header); None when it cannot be read."""
    counter = RecordCounter()
    try:
        for chunk in csv_chunks(path):
            counter.feed(chunk)
    except (OSError, EOFError):
        return None
    return max(0, counter.total() - 1)


def read_contacts(source: str | None, phones: list[str] | None) -> list[dict[str, Any]]:
    """Contacts from a JSON file (``-``: stdin) holding an array of objects, then ``--phone``s."""
    contacts: list[dict[str, Any]] = []
    if source is not None or not phones:
        name = "stdin" if source in (None, "-") else source
        if source in (None, "-"):
            if sys.stdin.isatty():
                raise UsageFailure("give a JSON file of contacts, - to read stdin, or --phone")
            text = sys.stdin.read()
        else:
            try:
                text = Path(source).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageFailure(f"cannot read {source}: {exc}") from None
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageFailure(f"{name} is not valid JSON: {exc}") from None
        if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
            raise UsageFailure(
                f'{name} must hold a JSON array of contacts, e.g. [{{"phoneNumber": "+1…"}}]'
            )
        contacts.extend(parsed)
    contacts.extend({"phoneNumber": phone} for phone in phones or [])
    if not contacts:
        raise UsageFailure("no contacts to add")
    return contacts


def queued(cli: Session, accepted: JobAccepted) -> None:
    """What a command that does not wait prints: the job's id (JSON: the whole answer)."""
    if cli.out.json_mode:
        cli.out.json(accepted)
        return
    cli.out.line(accepted.jobId)
    cli.out.note(f"follow it with: contactlists jobs show {accepted.jobId} --wait")


# ---------------------------------------------------------------- commands


@app.command("add")
@command(quiet_option=True)
def add(
    cli: Session,
    list_name: Annotated[
        str, typer.Argument(help="The list's name (any case).", show_default=False)
    ],
    source: Annotated[
        str | None,
        typer.Argument(
            help='A JSON file holding an array of contacts ({"phoneNumber": …, "firstName": …, '
            "custom fields…}); - or nothing reads stdin.",
            show_default=False,
        ),
    ] = None,
    phone: Annotated[
        list[str] | None,
        typer.Option("--phone", help="A phone number to add (repeatable); no file is read then."),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    on_duplicate: OnDuplicateOption = OnDuplicate.skip,
) -> None:
    """Queue contacts for a list (at most 10,000 a call); prints the job id, or waits for it."""
    contacts = read_contacts(source, phone)
    accepted = cli.api.contacts.add(
        list_name, contacts, on_duplicate=on_duplicate_sent(on_duplicate)
    )
    if not wait:
        queued(cli, accepted)
        return
    report(cli, follow(cli, accepted.jobId, total=len(contacts), timeout=timeout))


@app.command("import")
@command(quiet_option=True)
def import_(
    cli: Session,
    list_id: ListId,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A CSV file with a header row (UTF-8 unless --encoding), the same gzipped "
            "(.csv.gz), or an Excel workbook (.xlsx: its first sheet).",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help='Our field names to the file\'s headers, as JSON: \'{"phoneNumber": "Phone"}\' '
            "(default: headers matched ignoring case, spaces and _).",
            show_default=False,
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="One field's header, field=Header, e.g. phoneNumber=Phone (repeatable).",
            show_default=False,
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="The CSV file's text encoding, e.g. cp1252, mac_roman, utf-16 (default UTF-8; "
            "the service names the likely one when a file is not in it).",
            show_default=False,
        ),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    on_duplicate: OnDuplicateOption = OnDuplicate.skip,
) -> None:
    """Upload a CSV file or an .xlsx workbook into a list; prints the job id, or follows the
    import to its end."""
    fields = parse_mapping(mapping, map_)
    show_progress = not (cli.out.json_mode or cli.out.quiet)
    # Rows are counted in CSV text only: a workbook's total shows once the job has read it.
    counted = wait and show_progress and not is_zip(file) and encoding is None
    total = count_rows(file) if counted else None
    size = file.stat().st_size
    with Meter(cli.out.stderr, "uploaded", unit="bytes", total=size, enabled=show_progress) as sent:
        accepted = cli.api.contacts.upload(
            list_id,
            file,
            mapping=fields,
            encoding=encoding,
            on_progress=lambda done, _total: sent.update(done),
            on_duplicate=on_duplicate_sent(on_duplicate),
        )
        sent.finish(size)
    if not wait:
        queued(cli, accepted)
        return
    report(cli, follow(cli, accepted.jobId, total=total, timeout=timeout))


# Optional columns of the contacts table, shown only when some contact has a value there.
CONTACT_COLUMNS = ("firstName", "lastName", "timeZone", "uniqueId", "contactPriority")


def contacts_table(found: list[Contact], *, limited: bool) -> Table:
    table = listing()
    id_column(table, "id")
    table.add_column("phoneNumber", no_wrap=True)
    shown = [name for name in CONTACT_COLUMNS if any(getattr(c, name) for c in found)]
    for name in shown:
        table.add_column(name)
    with_fields = any(c.fields for c in found)
    if with_fields:
        table.add_column("fields", overflow="fold")
    for item in found:
        row = [cell(item.id), cell(item.phoneNumber)]
        row += [cell(getattr(item, name)) for name in shown]
        if with_fields:
            row.append(cell(", ".join(f"{key}={value}" for key, value in item.fields.items())))
        table.add_row(*row)
    more = " (the first ones; --limit 0 shows all)" if limited else ""
    table.caption = f"{len(found):,} contact{'' if len(found) == 1 else 's'}{more}"
    return table


def write_json_array(items: Iterator[Any]) -> None:
    """A JSON array written as it is read, so a list of any size never sits in memory."""
    sys.stdout.write("[")
    written = 0
    for item in items:
        text = json.dumps(as_json(item), indent=2, ensure_ascii=False)
        sys.stdout.write(("," if written else "") + "\n" + textwrap.indent(text, "  "))
        written += 1
    sys.stdout.write("\n]\n" if written else "]\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- filters (ls and export)

PhoneOption = Annotated[
    str | None,
    typer.Option("--phone", help="Only this number, in any format.", show_default=False),
]
SearchOption = Annotated[
    str | None,
    typer.Option(
        help="Only contacts whose first name, last name or uniqueId starts with this (any case).",
        show_default=False,
    ),
]
FieldOption = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        help="Only contacts whose custom field NAME is exactly VALUE: NAME=VALUE (repeatable).",
        show_default=False,
    ),
]
TimeZoneOption = Annotated[
    str | None,
    typer.Option("--time-zone", help="Only this IANA time zone.", show_default=False),
]
AfterOption = Annotated[
    str | None,
    typer.Option(
        "--created-after",
        help="Only contacts created at or after this ISO-8601 time (UTC without an offset).",
        show_default=False,
    ),
]
BeforeOption = Annotated[
    str | None,
    typer.Option(
        "--created-before",
        help="Only contacts created before this ISO-8601 time (UTC without an offset).",
        show_default=False,
    ),
]


def parse_time(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageFailure(
            f"{option} must be an ISO-8601 time such as 2026-01-31T09:00:00Z, not {value!r}"
        ) from None


def contact_filter(
    phone: str | None,
    search: str | None,
    fields: list[str] | None,
    time_zone: str | None,
    created_after: str | None,
    created_before: str | None,
) -> ContactFilter | None:
    """The filter the options ask for; None when they ask for none."""
    pairs: dict[str, str] = {}
    for given in fields or []:
        name, sep, value = given.partition("=")
        if not sep or not name:
            raise UsageFailure(f"--field takes NAME=VALUE, not {given!r}")
        pairs[name] = value
    found = ContactFilter(
        phone_number=phone,
        search=search,
        fields=pairs,
        time_zone=time_zone,
        created_after=parse_time("--created-after", created_after),
        created_before=parse_time("--created-before", created_before),
    )
    return None if found == ContactFilter() else found


@app.command("ls")
@command()
def list_contacts(
    cli: Session,
    list_id: ListId,
    limit: Annotated[
        int, typer.Option(min=0, help="At most this many contacts; 0 for every one.")
    ] = 100,
    phone: PhoneOption = None,
    search: SearchOption = None,
    field: FieldOption = None,
    time_zone: TimeZoneOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
) -> None:
    """List a list's contacts in the order they were added, all or those the filters pass."""
    filters = contact_filter(phone, search, field, time_zone, created_after, created_before)
    page_size = min(limit, 1000) if limit else 1000
    contacts = cli.api.contacts.list(list_id, page_size=page_size, filters=filters)
    wanted = islice(contacts, limit) if limit else contacts
    if cli.out.json_mode:
        write_json_array(wanted)
        return
    found = list(wanted)
    cli.out.result(
        found, lambda: contacts_table(found, limited=bool(limit) and len(found) == limit)
    )


@app.command("export")
@command(json_output=False, quiet_option=True)
def export(
    cli: Session,
    list_id: ListId,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Write the CSV to this file (replaced only once the export is whole); - is "
            "stdout.",
        ),
    ] = "-",
    phone: PhoneOption = None,
    search: SearchOption = None,
    field: FieldOption = None,
    time_zone: TimeZoneOption = None,
    created_after: AfterOption = None,
    created_before: BeforeOption = None,
) -> None:
    """Export a list's contacts as CSV (the file imports back unchanged), all or those the
    filters pass."""
    filters = contact_filter(phone, search, field, time_zone, created_after, created_before)
    # Filtered, the number to export is not known in advance.
    total = None if filters else cli.api.lists.get(list_id).totalRecordCount
    to_stdout = output == "-"
    # CSV on a terminal fills it anyway; a bar drawn over it would only garble both.
    enabled = not cli.out.quiet and not (to_stdout and sys.stdout.isatty())
    with Meter(cli.out.stderr, "exported", total=total, enabled=enabled) as meter:
        if to_stdout:
            sys.stdout.flush()
            written = cli.api.contacts.export(
                list_id, sys.stdout.buffer, on_progress=meter.update, filters=filters
            )
            sys.stdout.buffer.flush()
        else:
            written = export_to_file(cli, list_id, Path(output), meter, filters)
        meter.finish(written)


def export_to_file(
    cli: Session, list_id: str, path: Path, meter: Meter, filters: ContactFilter | None = None
) -> int:
    """Export under a temporary name, renamed to ``path`` only once the export is whole."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        file = partial.open("wb")
    except OSError as exc:
        raise CommandFailure(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with file:
            written = cli.api.contacts.export(
                list_id, file, on_progress=meter.update, filters=filters
            )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
