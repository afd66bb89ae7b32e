"""Recompute the audit chain and name the first row where it breaks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditChainHead, AuditEvent
from .models.audit_chain import CHAIN_FIELDS, GENESIS, row_hash

BATCH = 1000


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of `verify_chain`: rows checked and, if broken, where and why."""

    checked: int
    last_seq: int
    last_hash: str
    broken_id: int | None = None
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        if self.ok:
            return (f"Audit chain intact: {self.checked} events, head seq {self.last_seq} "
                    f"hash {self.last_hash}.")
        where = (f"row id {self.broken_id}, seq {self.broken_seq}" if self.broken_id is not None
                 else "chain head")
        return f"Audit chain broken at {where}: {self.problem}"


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every row hash in sequence order; stop at the first row that breaks."""
    columns = [AuditEvent.id, *(getattr(AuditEvent, name) for name in CHAIN_FIELDS),
               AuditEvent.row_hash]
    expected_seq, prev_hash, prev_id, checked = 1, GENESIS, 0, 0
    after = None
    while True:
        stmt = select(*columns).order_by(AuditEvent.seq).limit(BATCH)
        if after is not None:
            stmt = stmt.where(AuditEvent.seq > after)
        rows = session.execute(stmt).all()
        for row in rows:
            problem = _problem(row, expected_seq, prev_hash, prev_id)
            if problem:
                return VerifyResult(checked, expected_seq - 1, prev_hash, row.id, row.seq,
                                    problem)
            checked += 1
            expected_seq, prev_hash, prev_id = row.seq + 1, row.row_hash, row.id
        if len(rows) < BATCH:
            break
        after = rows[-1].seq
    last_seq = expected_seq - 1
    head = session.get(AuditChainHead, 1, populate_existing=True)
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (last_seq, prev_hash):
        problem = (f"the chain head says seq {head_seq} hash {head_hash[:12]}..., the last row "
                   f"is seq {last_seq} hash {prev_hash[:12]}... (rows removed from the end, "
                   "or appended without the chain)")
        return VerifyResult(checked, last_seq, prev_hash, None, head_seq, problem)
    return VerifyResult(checked, last_seq, prev_hash)


def _problem(row, expected_seq: int, prev_hash: str, prev_id: int) -> str | None:
    if row.seq != expected_seq:
        return (f"expected seq {expected_seq}, found {row.seq} "
                f"({row.seq - expected_seq} row(s) missing: deleted?)"
                if row.seq > expected_seq else f"expected seq {expected_seq}, found {row.seq}")
    if row.prev_hash != prev_hash:
        return (f"previous hash {row.prev_hash[:12]}... does not match the hash of the row "
                f"before it ({prev_hash[:12]}...): rows reordered, removed or inserted")
    if row.id <= prev_id:
        return f"id {row.id} is not after the previous row's id {prev_id}: rows swapped"
    computed = row_hash({name: getattr(row, name) for name in CHAIN_FIELDS})
    if computed != row.row_hash:
        return f"content does not match its hash (stored {row.row_hash[:12]}..., " \
               f"recomputed {computed[:12]}...): the row was edited"
    return None
