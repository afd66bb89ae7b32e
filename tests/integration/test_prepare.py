"""Submitting for review lays out the final PDF ahead of approval: once per content, from a
snapshot taken inside the transition, never holding the write lock (real WeasyPrint)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import func, select

import contracts.pdf
from contracts import issuing
from workflow.demo import approve_all_clauses, make_compliant
from workflow.models import Document, RenderCache
from workflow.services.transitions import advance


@pytest.fixture
def layouts(monkeypatch):
    """Count the real layouts (WeasyPrint runs) the code under test asks for."""
    calls = []
    real = contracts.pdf.render_pdf

    def counting(snapshot, **kwargs):
        calls.append((snapshot.reference, kwargs["draft"]))
        return real(snapshot, **kwargs)

    monkeypatch.setattr(contracts.pdf, "render_pdf", counting)
    return calls


def _finals(session) -> int:
    return session.scalar(select(func.count()).select_from(RenderCache)
                          .where(RenderCache.kind == "final"))


def _ready_content(session, make_partnership):
    """A compliant partnership in negotiation, and the snapshot, date and cache key its
    submission would lay out."""
    p = make_partnership("negotiation")
    make_compliant(session, p.owner, p)
    snapshot, _version, settled = issuing._final_inputs(session, p)
    key = issuing.cache_key(snapshot, draft=False, generated=settled)
    session.rollback()
    return p, snapshot, settled, key


def test_submit_lays_out_the_final_pdf_once_and_approve_reuses_it(
        database, session, make_partnership, make_user, layouts):
    p = make_partnership("negotiation")
    owner, legal = p.owner, make_user("legal")
    make_compliant(session, owner, p)
    advance(session, p.id, "submit_for_review", owner)
    assert layouts == [(p.reference, False)]
    assert _finals(session) == 1
    # Another round on the same content finds it in the cache.
    advance(session, p.id, "request_changes", legal, comment="Check the annex again.")
    advance(session, p.id, "submit_for_review", owner)
    assert len(layouts) == 1
    # Approval certifies the PDF laid out at submission: no second layout.
    approve_all_clauses(session, legal, p)
    advance(session, p.id, "approve", legal)
    assert len(layouts) == 1
    with database.sessions() as s:
        issued = s.scalars(select(Document).where(Document.partnership_id == p.id,
                                                  Document.kind == "issued")).one()
        assert issued.version == 1
        assert _finals(s) == 1


def test_a_refused_submission_lays_out_nothing(database, session, make_partnership, layouts):
    p = make_partnership("negotiation")  # clauses not chosen yet: the guards block it
    with pytest.raises(Exception, match="blocked"):
        advance(session, p.id, "submit_for_review", p.owner)
    assert layouts == []
    assert _finals(session) == 0


def test_background_preparer_lays_out_each_content_once(database, session, make_partnership,
                                                        layouts):
    p, snapshot, settled, key = _ready_content(session, make_partnership)
    preparer = issuing._Preparer()
    for _ in range(3):  # the same content submitted three times in a row
        preparer.submit(database.engine, key, snapshot, settled, background=True)
    preparer._pool.shutdown(wait=True)
    assert layouts == [(p.reference, False)]
    assert issuing.is_cached(session, key)
    assert not preparer._pending


def test_a_failed_background_layout_is_logged_and_can_be_retried(
        database, session, make_partnership, monkeypatch, caplog):
    p, snapshot, settled, key = _ready_content(session, make_partnership)
    preparer = issuing._Preparer()

    def broken(_snapshot, **_kwargs):
        raise RuntimeError("layout engine crashed")

    monkeypatch.setattr(contracts.pdf, "render_pdf", broken)
    preparer.submit(database.engine, key, snapshot, settled, background=False)
    assert "preparing the agreement PDF of " + p.reference + " failed" in caplog.text
    assert not issuing.is_cached(session, key)
    session.rollback()  # a fresh read sees what the retry commits
    monkeypatch.undo()
    preparer.submit(database.engine, key, snapshot, settled, background=False)
    assert issuing.is_cached(session, key)


def test_snapshot_data_is_what_asdict_gives(session, make_partnership):
    p = make_partnership("negotiation")
    make_compliant(session, p.owner, p)
    snapshot, _version, _settled = issuing._final_inputs(session, p)
    assert snapshot.clauses and snapshot.parties
    assert snapshot.as_data() == asdict(snapshot)
