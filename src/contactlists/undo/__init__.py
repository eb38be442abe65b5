"""Undo of an import: a job of its own that removes what the import inserted and restores
what it updated, as far as those contacts are still the import's own."""
