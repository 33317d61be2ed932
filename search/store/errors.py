"""The one error type the store raises, so callers can turn it into a clear message or a 4xx."""
import sqlite3

from search.errors import ResourceError


class StoreError(ResourceError):
    """No store at the path, a store made by another model or schema, or a vector file that cannot be read.
    `busy`: another process held the store past the busy timeout, so the same call may succeed soon."""

    def __init__(self, message: str, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock (SQLITE_BUSY / SQLITE_LOCKED)."""
    return "locked" in str(exc) or "busy" in str(exc)
