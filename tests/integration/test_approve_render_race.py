"""Concurrency review: approve and the background layout of the same PDF (PostgreSQL).

submit_for_review queues the final PDF's layout in the background (`_Preparer`); approve
renders it itself on a cache miss. When the background copy is stored while approve is
rendering, approve's own insert of the same cache key must not turn the approval into a
Conflict: nothing about the partnership changed ("a concurrent twin is fine").
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select

from tests.helpers import build_partnership
from workflow.demo import approve_all_clauses
from workflow.models import AuditEvent, Partnership, RenderCache
from workflow.services.transitions import advance


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_approve_succeeds_when_the_prepared_pdf_is_stored_during_its_render(
        database, session, make_user, make_org, monkeypatch):
    from contracts import issuing

    owner, legal = make_user("coordinator"), make_user("legal")
    p = build_partnership(session, owner, legal, make_org("IT"), make_org("CN", kind="sme"),
                          "legal_review")
    approve_all_clauses(session, legal, p)
    # The background layout queued by submit_for_review has not stored its PDF yet.
    with database.engine.begin() as conn:
        conn.execute(delete(RenderCache))
    real, twins = issuing._lay_out, []

    def lay_out(snapshot, *, draft, generated):
        result, layout = real(snapshot, draft=draft, generated=generated)
        if not draft and not twins:  # the background preparer finishes meanwhile
            key = issuing.cache_key(snapshot, draft=False, generated=generated)
            t = threading.Thread(target=issuing._save_cache, args=(
                database.sessions, key, "final", result.pages, layout, result.pdf))
            t.start()
            t.join(timeout=30)
            twins.append(key)
        return result, layout

    monkeypatch.setattr(issuing, "_lay_out", lay_out)
    outcome = "ok"
    try:
        advance(session, p.id, "approve", legal)
    except Exception as exc:  # noqa: BLE001 - reported below
        outcome = f"{type(exc).__name__}: {exc}"
    with database.sessions() as s:
        stage = s.get(Partnership, p.id).stage
        issued = s.scalars(select(AuditEvent.action).where(
            AuditEvent.partnership_id == p.id, AuditEvent.action == "agreement_issued")).all()
    assert twins
    assert (outcome, stage, len(issued)) == ("ok", "approved", 1), (outcome, stage)
