"""The store's own exceptions: each says what went wrong and what to do about it."""

from __future__ import annotations


class HistoryStoreError(Exception):
    """Base class of every error the lineage store raises."""


class InvalidNameError(HistoryStoreError, ValueError):
    """A lineage name or session code that cannot become a folder name."""


class InvalidRecordError(HistoryStoreError, ValueError):
    """A history record with a missing or ill-typed field."""


class InvalidAdviceError(InvalidRecordError):
    """Advice text that is empty, too long, or holds characters the store refuses."""


class SessionNotFoundError(HistoryStoreError, LookupError):
    """No session with that code is in the store."""


class SessionExistsError(HistoryStoreError, FileExistsError):
    """A session with that code is already registered."""


class AncestorLineageError(HistoryStoreError, ValueError):
    """The ancestor session belongs to another lineage."""


class NoAncestorError(HistoryStoreError, LookupError):
    """`latest` found no earlier session with records in the lineage."""


class AncestorRoleMissingError(HistoryStoreError, LookupError):
    """The ancestor session has no records of a role the new session needs."""


class CorruptStoreError(HistoryStoreError, ValueError):
    """A store file that cannot be read or contradicts its manifest."""


class StoreNotWritableError(HistoryStoreError, OSError):
    """The store folder cannot be written (permissions, read-only or full disk)."""
