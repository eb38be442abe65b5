"""``contactlists contacts …`` and ``contactlists jobs …`` against a real ``serve`` process."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.cli import PROCESS_TIMEOUT_SECONDS, Cli, csv_text, only_line, us_number
from tests.support.workbooks import write_workbook

JOB_ID = re.compile(r"job-[0-9a-f-]{36}")
REQUEST = r"request [0-9a-zA-Z-]+"
EXPORT_HEADER = "_id,phoneNumber,firstName,lastName,timeZone,uniqueId,contactPriority"

# Two good rows and one bad, under headers the service does not match by itself.
SMALL = csv_text(
    [
        ["Phone", "Given", "Tier"],
        ["+14155550101", "Ada", "gold"],
        ["+12125550102", "Bob", "silver"],
        ["not-a-number", "Eve", "x"],
    ]
)


def new_list(cli: Cli, name: str = "Contacts", *args: str) -> str:
    list_id: str = cli.json("lists", "create", name, *args)["_id"]
    return list_id


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_with_mapping_waits_and_reports_the_counts(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli)
    file = write(tmp_path / "small.csv", SMALL)
    result = cli.ok(
        "contacts",
        "import",
        list_id,
        str(file),
        "--map",
        "phoneNumber=Phone",
        "--map",
        "firstName=Given",
        "--wait",
    )
    # The counts as a table on stdout…
    shown = dict(line.split(None, 1) for line in result.stdout.strip().splitlines())
    assert JOB_ID.fullmatch(shown["job"].strip())
    assert {key: shown[key].strip() for key in ("state", "inserted", "duplicates", "invalid")} == {
        "state": "completed",
        "inserted": "2",
        "duplicates": "0",
        "invalid": "1",
    }
    job_id = shown["job"].strip()
    # …progress on stderr (plain lines: stderr is not a terminal), and the hint for the errors.
    assert re.search(r"^uploaded \d+ bytes in [\d.]+ s", result.stderr, re.M), result.stderr
    assert re.search(r"^imported 3 rows in [\d.]+ s \([\d,]+ rows/s\)$", result.stderr, re.M)
    assert f"1 row rejected; see each row with: contactlists jobs errors {job_id}" in result.stderr

    errors = cli.json("jobs", "errors", job_id)
    assert [(e["row"], e["field"], e["code"], e["value"]) for e in errors] == [
        (4, "phoneNumber", "invalid_phone_number", "not-a-number")
    ]
    assert "invalid_phone_number" in cli.ok("jobs", "errors", job_id).stdout
    job = cli.json("jobs", "show", job_id)
    assert (job["_id"], job["total"], job["inserted"], job["invalid"]) == (job_id, 3, 2, 1)

    contacts = cli.json("contacts", "ls", list_id)
    assert [(c["phoneNumber"], c["firstName"], c["fields"]) for c in contacts] == [
        ("+14155550101", "Ada", {"Tier": "gold"}),
        ("+12125550102", "Bob", {"Tier": "silver"}),
    ]


def test_an_import_says_how_many_numbers_it_stored_unverified(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli, "Unverified")
    rows = [["phoneNumber"], ["9122333445566"], ["+14155550101"]]
    file = write(tmp_path / "kore.csv", csv_text(rows))

    result = cli.ok("contacts", "import", list_id, str(file), "--wait")

    shown = dict(line.split(None, 1) for line in result.stdout.strip().splitlines())
    assert (shown["inserted"].strip(), shown["unverified"].strip()) == ("2", "1")
    assert "1 number stored unverified (plausible, but not known to be valid)" in result.stderr


def test_import_of_a_gzip_file_with_a_json_mapping(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli)
    file = tmp_path / "small.csv.gz"
    file.write_bytes(gzip.compress(SMALL.encode()))
    job = cli.json(
        "contacts", "import", list_id, str(file), "--mapping", '{"phoneNumber": "Phone"}', "--wait"
    )
    assert (job["state"], job["inserted"], job["invalid"]) == ("completed", 2, 1)
    assert cli.json("lists", "show", list_id)["totalRecordCount"] == 2


def test_import_of_a_workbook_and_of_a_csv_with_its_encoding(cli: Cli, tmp_path: Path) -> None:
    sheet_list = new_list(cli, "From a sheet")
    workbook = tmp_path / "small.xlsx"
    write_workbook(workbook, list(csv.reader(io.StringIO(SMALL))))
    job = cli.json("contacts", "import", sheet_list, str(workbook), "--map", "phoneNumber=Phone",
                   "--wait")  # fmt: skip
    assert (job["state"], job["inserted"], job["invalid"]) == ("completed", 2, 1)

    accented = new_list(cli, "Accented")
    file = tmp_path / "latin.csv"
    file.write_bytes(
        csv_text([["phoneNumber", "firstName"], ["+14155550101", "Zoë"]]).encode("cp1252")
    )
    refused = cli.run("contacts", "import", accented, str(file))
    assert refused.exit_code == 1
    assert "send encoding=cp1252" in refused.stderr
    job = cli.json("contacts", "import", accented, str(file), "--encoding", "cp1252", "--wait")
    assert job["inserted"] == 1
    assert [c["firstName"] for c in cli.json("contacts", "ls", accented)] == ["Zoë"]


def test_import_without_wait_prints_the_job_id_to_follow(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli)
    file = write(tmp_path / "plain.csv", csv_text([["phoneNumber"], ["+16175550103"]]))
    result = cli.ok("contacts", "import", list_id, str(file))
    job_id = result.stdout.strip()
    assert JOB_ID.fullmatch(job_id), result.stdout
    assert f"contactlists jobs show {job_id} --wait" in result.stderr

    followed = cli.ok("jobs", "show", job_id, "--wait", "--quiet", "--json")
    assert followed.stderr == ""
    assert json.loads(followed.stdout)["state"] == "completed"

    accepted = cli.json("contacts", "import", list_id, str(file))
    assert accepted["status"] == "success"
    assert JOB_ID.fullmatch(accepted["jobId"])


def test_bad_mappings_and_files_are_usage_errors_and_nothing_is_sent(
    cli: Cli, tmp_path: Path
) -> None:
    list_id = new_list(cli)
    file = write(tmp_path / "small.csv", SMALL)
    for args, message in [
        (["--mapping", "{bad"], "error: --mapping is not valid JSON: "),
        (["--mapping", '["Phone"]'], "error: --mapping must be a JSON object"),
        (["--mapping", '{"phoneNumber": 1}'], "error: --mapping must be a JSON object"),
        (["--map", "phoneNumber"], "error: --map takes field=Header"),
    ]:
        result = cli.fails(2, "contacts", "import", list_id, str(file), *args, "--wait")
        assert only_line(result.stderr).startswith(message), result.stderr
    missing = cli.fails(2, "contacts", "import", list_id, str(tmp_path / "absent.csv"))
    assert "does not exist" in missing.stderr
    assert cli.json("lists", "show", list_id)["files"] == []


def test_import_refused_by_the_service_exits_1(cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path / "small.csv", SMALL)
    missing = "cl-00000000-0000-4000-8000-000000000000"
    result = cli.fails(1, "contacts", "import", missing, str(file), "--quiet")
    assert re.fullmatch(
        rf"error: Contact list {missing} was not found\. \(404 not_found, {REQUEST}\)",
        only_line(result.stderr),
    ), result.stderr
    # No header the service can read as a phone number, and no mapping: 400, exit 1.
    list_id = new_list(cli)
    result = cli.fails(1, "contacts", "import", list_id, str(file), "--quiet")
    assert "(400 validation_error" in only_line(result.stderr)


def test_add_from_stdin_a_file_and_phone_flags(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli, "Spring renewals")
    contacts = [{"phoneNumber": "+14155550101", "firstName": "Ada", "plan": "gold"}]
    job = cli.json("contacts", "add", "SPRING renewals", "--wait", input=json.dumps(contacts))
    assert (job["type"], job["state"], job["inserted"]) == ("add_contacts", "completed", 1)

    file = write(tmp_path / "more.json", json.dumps([{"phoneNumber": "+12125550102"}]))
    result = cli.ok("contacts", "add", "Spring renewals", str(file), "--wait")
    assert re.search(r"^inserted\s+1\s*$", result.stdout, re.M), result.stdout

    queued = cli.ok(
        "contacts", "add", "Spring renewals", "--phone", "+16175550103", "--phone", "12"
    )
    job_id = queued.stdout.strip()
    assert JOB_ID.fullmatch(job_id)
    finished = cli.json("jobs", "show", job_id, "--wait")
    assert (finished["inserted"], finished["invalid"]) == (1, 1)

    listed = cli.json("contacts", "ls", list_id)
    assert [c["phoneNumber"] for c in listed] == ["+14155550101", "+12125550102", "+16175550103"]
    assert listed[0]["fields"] == {"plan": "gold"}


def test_add_with_bad_input_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    new_list(cli, "Target")
    for given, message in [
        ("{not json", "error: stdin is not valid JSON: "),
        ('{"phoneNumber": "+14155550101"}', "error: stdin must hold a JSON array of contacts"),
        ("[1, 2]", "error: stdin must hold a JSON array of contacts"),
        ("[]", "error: no contacts to add"),
    ]:
        result = cli.fails(2, "contacts", "add", "Target", input=given)
        assert only_line(result.stderr).startswith(message), result.stderr
    absent = tmp_path / "absent.json"
    result = cli.fails(2, "contacts", "add", "Target", str(absent))
    assert only_line(result.stderr).startswith(f"error: cannot read {absent}")


def test_add_to_an_unknown_list_exits_1(cli: Cli) -> None:
    result = cli.fails(1, "contacts", "add", "No such list", "--phone", "+14155550101")
    assert re.fullmatch(
        rf"error: Contact list No such list was not found\. \(404 not_found, {REQUEST}\)",
        only_line(result.stderr),
    ), result.stderr


def test_ls_pages_by_cursor_and_limits(cli: Cli) -> None:
    list_id = new_list(cli)
    phones = [us_number(index) for index in range(1203)]
    body = json.dumps([{"phoneNumber": phone} for phone in phones])
    assert cli.json("contacts", "add", "Contacts", "--wait", input=body)["inserted"] == 1203

    assert [c["phoneNumber"] for c in cli.json("contacts", "ls", list_id)] == phones[:100]
    assert [c["phoneNumber"] for c in cli.json("contacts", "ls", list_id, "--limit", "3")] == (
        phones[:3]
    )
    # Every one, across pages of 1,000, in insertion order.
    every = cli.json("contacts", "ls", list_id, "--limit", "0")
    assert [c["phoneNumber"] for c in every] == phones
    table = cli.ok("contacts", "ls", list_id, "--limit", "2").stdout
    assert phones[0] in table
    assert every[0]["_id"] in table
    assert "2 contacts (the first ones; --limit 0 shows all)" in table

    empty = new_list(cli, "Empty")
    assert cli.json("contacts", "ls", empty) == []
    cli.fails(1, "contacts", "ls", "cl-00000000-0000-4000-8000-000000000000")


def test_ls_and_export_take_the_filters(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli)
    people = [
        {"phoneNumber": "+14155550101", "firstName": "Ada", "plan": "gold"},
        {"phoneNumber": "+12125550102", "firstName": "adam", "uniqueId": "u-2", "plan": "x"},
        {"phoneNumber": "+12125550103", "lastName": "Bo", "timeZone": "Europe/London"},
    ]
    cli.ok("contacts", "add", "Contacts", "--wait", input=json.dumps(people))

    def listed(*options: str) -> list[str]:
        return [c["phoneNumber"] for c in cli.json("contacts", "ls", list_id, *options)]

    assert listed("--search", "ADA") == ["+14155550101", "+12125550102"]
    assert listed("--search", "ada", "--field", "plan=gold") == ["+14155550101"]
    assert listed("--phone", "(212) 555-0103") == ["+12125550103"]
    assert listed("--time-zone", "Europe/London") == ["+12125550103"]
    assert listed("--created-before", "2000-01-01T00:00:00Z") == []
    assert len(listed("--created-after", "2000-01-01")) == 3

    output = tmp_path / "gold.csv"
    result = cli.ok("contacts", "export", list_id, "--field", "plan=gold", "--output", str(output))
    assert re.search(r"^exported 1 row in [\d.]+ s", result.stderr, re.M), result.stderr
    assert [row["firstName"] for row in read_csv(output.read_text(encoding="utf-8"))] == ["Ada"]

    for bad in (["--field", "plan"], ["--field", "=x"], ["--created-after", "yesterday"]):
        refused = cli.fails(2, "contacts", "ls", list_id, *bad)
        assert "error:" in refused.stderr
    refused = cli.fails(1, "contacts", "ls", list_id, "--time-zone", "Mars/Olympus")
    assert "timeZone" in refused.stderr
    cli.fails(1, "contacts", "export", list_id, "--phone", "12", "--output", str(output))


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_to_a_file_and_to_stdout(cli: Cli, tmp_path: Path) -> None:
    list_id = new_list(cli)
    file = write(tmp_path / "small.csv", SMALL)
    cli.ok("contacts", "import", list_id, str(file), "--map", "phoneNumber=Phone", "--wait")

    output = tmp_path / "out.csv"
    result = cli.ok("contacts", "export", list_id, "--output", str(output))
    assert result.stdout == ""
    assert re.search(r"^exported 2 rows in [\d.]+ s", result.stderr, re.M), result.stderr
    text = output.read_text(encoding="utf-8")
    assert text.startswith(EXPORT_HEADER + ",Given,Tier,createdAt")
    assert [row["phoneNumber"] for row in read_csv(text)] == ["+14155550101", "+12125550102"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []

    to_stdout = cli.ok("contacts", "export", list_id, "--quiet")
    assert to_stdout.stderr == ""
    assert to_stdout.stdout.replace("\r\n", "\n") == text.replace("\r\n", "\n")

    unwritable = tmp_path / "no-such-directory" / "out.csv"
    refused = cli.fails(1, "contacts", "export", list_id, "--output", str(unwritable))
    assert only_line(refused.stderr) == (
        f"error: cannot write {unwritable}: No such file or directory"
    )

    # The export imports back unchanged (its columns are ours).
    copy = new_list(cli, "Copy")
    job = cli.json("contacts", "import", copy, str(output), "--wait")
    assert (job["inserted"], job["invalid"]) == (2, 0)


def test_export_of_an_unknown_list_exits_1_and_writes_no_file(cli: Cli, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    missing = "cl-00000000-0000-4000-8000-000000000000"
    result = cli.fails(1, "contacts", "export", missing, "-o", str(output))
    assert "(404 not_found" in only_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_unknown_jobs_exit_1(cli: Cli) -> None:
    missing = "job-00000000-0000-4000-8000-000000000000"
    for verb in ("show", "errors", "cancel"):
        result = cli.fails(1, "jobs", verb, missing)
        assert re.fullmatch(
            rf"error: Job {missing} was not found\. \(404 not_found, {REQUEST}\)",
            only_line(result.stderr),
        ), result.stderr


def wait_for(check: Any, what: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stdout, stderr = process.communicate()
            raise AssertionError(f"no {what}; the import printed:\n{stdout}\n{stderr}")
        time.sleep(0.05)


def test_a_100k_row_import_shows_progress_and_ends_with_the_counts(
    cli: Cli, tmp_path: Path
) -> None:
    """The acceptance run, as a real process; a job queued behind it is cancelled meanwhile.

    The service runs one job worker, so a job queued while the big import is under way waits
    for it: that job is certainly still queued when it is cancelled.
    """
    rows = 100_000
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("phoneNumber,firstName,uniqueId\n")
        out.writelines(f"{us_number(i)},Name {i},u{i}\n" for i in range(rows))
    big_list = new_list(cli, "Big")
    small_list = new_list(cli, "Behind it")
    small = write(tmp_path / "small.csv", csv_text([["phoneNumber"], ["+14155550101"]]))

    importing = subprocess.Popen(
        [sys.executable, "-m", "contactlists", "contacts", "import", big_list, str(big), "--wait"],
        env=cli.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: cli.json("lists", "show", big_list)["status"] == "Validating",
            "the big import to be queued",
            importing,
        )
        queued = cli.ok("contacts", "import", small_list, str(small), "--quiet").stdout.strip()
        cancelled = cli.json("jobs", "cancel", queued)
        assert (cancelled["_id"], cancelled["state"]) == (queued, "cancelled")
        followed = cli.fails(1, "jobs", "show", queued, "--wait", "--quiet")
        assert only_line(followed.stderr) == f"error: job {queued} cancelled"
        assert re.search(r"^state\s+cancelled\s*$", followed.stdout, re.M), followed.stdout

        stdout, stderr = importing.communicate(timeout=PROCESS_TIMEOUT_SECONDS)
    finally:
        importing.kill()
        importing.wait()

    assert importing.returncode == 0, stderr
    assert "Traceback" not in stderr
    shown = dict(line.split(None, 1) for line in stdout.strip().splitlines())
    assert {key: shown[key].strip() for key in ("state", "inserted", "duplicates", "invalid")} == {
        "state": "completed",
        "inserted": "100,000",
        "duplicates": "0",
        "invalid": "0",
    }, stdout
    # Progress went to stderr, as lines: the total counted from the file before the job knew it.
    moving = re.findall(
        r"^imported ([\d,]+)/100,000 rows \([\d,]+ rows/s, ETA [^)]+\)$", stderr, re.M
    )
    assert moving, stderr
    assert all(0 < int(done.replace(",", "")) <= rows for done in moving), moving
    assert re.search(r"^imported 100,000 rows in [\d.]+ s \([\d,]+ rows/s\)$", stderr, re.M)
    assert cli.json("lists", "show", big_list)["totalRecordCount"] == rows
    assert cli.json("lists", "show", small_list)["totalRecordCount"] == 0
