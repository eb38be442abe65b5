"""Spreadsheet formula neutralisation of CSV cells ("CSV injection", OWASP), and its inverse.

A spreadsheet opening a CSV file runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``). Contact data
comes from whoever can call addContacts or upload a file; the export is opened by someone else.
So every exported cell that could start a formula gets one leading ``'``, which spreadsheets
read as "this cell is text" and do not show.

The rule is a bijection, so that an export uploads back unchanged:

- :func:`neutralise` prefixes ``'`` when the value, *after any leading quotes*, starts with a
  trigger character: ``=1`` → ``'=1``, and also ``'=1`` → ``''=1``;
- :func:`restore` drops one leading ``'`` when the cell, after its leading quotes, starts with
  a trigger character: ``'=1`` → ``=1``, ``''=1`` → ``'=1``. Anything else is left alone.

Every cell ``neutralise`` leaves alone does not have that shape (quotes, then a trigger), so
``restore`` leaves it alone too; every cell it changes has the shape and gets exactly its one
quote back. Hence ``restore(neutralise(s)) == s`` for every string (property-tested). The one
cost: a cell of a file made elsewhere that really starts with ``'`` before a trigger, such as
``'-)``, loses that first quote on upload.

Exempt: a phone number in E.164 (``+`` and 2 to 15 digits) in the phoneNumber column. Every
stored number is E.164, which a spreadsheet reads as a number at worst, never as a call; see
:func:`neutralise_phone`.
"""

from __future__ import annotations

import re

QUOTE = "'"
# OWASP's list: what makes Excel, LibreOffice Calc or Google Sheets read a cell as a formula.
TRIGGERS = frozenset("=+-@\t\r")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def _quoted_formula(text: str) -> bool:
    """Whether ``text``, after any leading quotes, starts with a trigger character."""
    rest = text.lstrip(QUOTE)
    return bool(rest) and rest[0] in TRIGGERS


def neutralise(value: str) -> str:
    """The cell to write for ``value``: with one more leading ``'`` if it could be a formula."""
    return QUOTE + value if _quoted_formula(value) else value


def restore(cell: str) -> str:
    """The value a cell written by :func:`neutralise` came from (drops the quote it added)."""
    return cell[1:] if cell.startswith(QUOTE) and _quoted_formula(cell) else cell


def neutralise_phone(value: str) -> str:
    """A phoneNumber cell: E.164 numbers as they are, anything else like any other cell."""
    return value if E164.fullmatch(value) else neutralise(value)
