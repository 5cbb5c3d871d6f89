"""The store's errors: the database cannot be used, a row is missing, a duplicate or a state clash."""

from __future__ import annotations

from station.errors import WallHingeError

__all__ = ["ConflictError", "NotFoundError", "StoreError"]


class StoreError(WallHingeError, RuntimeError):
    """The station's database cannot be used; the message says why and what to do."""


class NotFoundError(StoreError, LookupError):
    """A patient, session, set or rep that an operation names does not exist."""


class ConflictError(StoreError, ValueError):
    """A duplicate (patient code, username, rep number) or a clash with a row's state."""
