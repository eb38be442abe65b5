"""The kinds of job that import contacts into a list: the ones a client may follow and cancel."""

from contactlists.contacts.bulk import ADD_CONTACTS

UPLOAD = "upload"
"""The kind of job an uploaded CSV file queues."""

IMPORT_KINDS = (ADD_CONTACTS, UPLOAD)

__all__ = ["ADD_CONTACTS", "IMPORT_KINDS", "UPLOAD"]
