"""Storage faults: tell a database that is down, busy or full from a programming error.

A fault changes nothing (the service's transaction rolled back), so the web layer answers
503 (try again shortly) or 507 (no room to store this now) instead of a 500 traceback.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

UNAVAILABLE = "unavailable"
FULL = "full"

# SQLite primary result codes (sqlite3.h) that mean "not now" rather than "wrong query".
_SQLITE_FULL = 13
_SQLITE_TRANSIENT = {
    5: "The database is busy with another writer.",
    6: "The database is locked.",
    7: "The database ran out of memory.",
    10: "The database could not read or write its file.",
    14: "The database file cannot be opened.",
    15: "The database could not take its lock.",
}
# PostgreSQL SQLSTATEs: 53100 disk_full; class 08 connection, 53 resources, 57P0x shutdown,
# 58 system error; 40001/40P01 serialisation failure and deadlock, 55P03 lock not available,
# 57014 statement timeout: all safe to retry.
_PG_FULL = {"53100"}
_PG_TRANSIENT_CLASSES = ("08", "53", "58")
_PG_TRANSIENT = {"57P01", "57P02", "57P03", "40001", "40P01", "55P03", "57014"}


@dataclass(frozen=True)
class StorageFault:
    """What went wrong with the storage, in words a user can act on."""

    kind: str  # UNAVAILABLE | FULL
    detail: str
    retry_after: int  # seconds

    @property
    def status(self) -> int:
        return 507 if self.kind == FULL else 503


def unavailable(detail: str = "The database cannot be reached right now.") -> StorageFault:
    return StorageFault(UNAVAILABLE, f"{detail} Nothing was changed; try again in a moment.", 5)


def full() -> StorageFault:
    return StorageFault(FULL, "The server has no room to store this right now. Nothing was "
                        "saved; an operator has to free space first.", 60)


def classify(error: BaseException) -> StorageFault | None:
    """The storage fault behind `error` (or its causes), or None for any other error."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        fault = _classify_one(current)
        if fault is not None:
            return fault
        current = current.__cause__ or current.__context__
    return None


def _classify_one(error: BaseException) -> StorageFault | None:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection became free in time
        return unavailable("The database is overloaded.")
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return full()
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated:
        return unavailable()
    orig = error.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        if primary == _SQLITE_FULL:
            return full()
        if primary in _SQLITE_TRANSIENT:
            return unavailable(_SQLITE_TRANSIENT[primary])
        return None
    if type(orig).__module__.split(".")[0] == "psycopg":
        state = getattr(orig, "sqlstate", None)
        if state in _PG_FULL:
            return full()
        if (state is None and isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
                or state in _PG_TRANSIENT or (state or "")[:2] in _PG_TRANSIENT_CLASSES):
            return unavailable()
    return None
