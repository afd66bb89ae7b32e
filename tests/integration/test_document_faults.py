"""A full disk while a document is written: no document, no row pointing at missing
content, no audit event, stage and version unchanged; the same step works once there is
room again."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.faults import disk_full
from workflow.demo import approve_all_clauses
from workflow.faults import FULL, classify
from workflow.models import AuditEvent, Document, Partnership, Signature, User
from workflow.reconcile import check_documents
from workflow.services.documents import record_wet_ink
from workflow.services.transitions import advance


def stored(database, pid):
    """(stage, version, documents, signatures, audit events) as the database has them."""
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        counts = [s.scalar(select(func.count(model.id)).where(model.partnership_id == pid))
                  for model in (Document, Signature, AuditEvent)]
        return p.stage, p.version, *counts


def assert_full(failure) -> None:
    fault = classify(failure.value)
    assert fault is not None and fault.kind == FULL and fault.status == 507


def test_full_disk_while_issuing_the_agreement_leaves_stage_and_documents_unchanged(
        database, session, make_partnership, make_user):
    p = make_partnership("legal_review")
    legal = make_user("legal")
    approve_all_clauses(session, legal, p)
    session.rollback()
    before = stored(database, p.id)

    with disk_full(database.engine), pytest.raises(OperationalError) as failure:
        advance(session, p.id, "approve", legal)

    assert_full(failure)
    assert stored(database, p.id) == before
    issued = advance(session, p.id, "approve", legal)  # room again: the same step works
    assert issued.stage == "approved" and issued.version == before[1] + 1
    assert check_documents(session) == (1, [])


def test_full_disk_while_recording_a_scan_keeps_no_partial_copy(
        database, session, make_partnership):
    p = make_partnership("signing")
    owner, party_id = session.get(User, p.owner_id), p.parties[0].id
    session.rollback()
    before = stored(database, p.id)
    scan = os.urandom(300_000)

    with disk_full(database.engine), pytest.raises(OperationalError) as failure:
        record_wet_ink(session, owner, p.id, party_id, scan, "scan.pdf",
                       "Signed in ink, received by courier.")

    assert_full(failure)
    assert stored(database, p.id) == before
    record_wet_ink(session, owner, p.id, party_id, scan, "scan.pdf", "Signed in ink.")
    checked, findings = check_documents(session)
    assert findings == [] and checked == before[2] + 1
