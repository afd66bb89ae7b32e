"""Issue 3's acceptance path on the demo data: the Chinese counterpart's partnership
reaches approval only with compliant clauses, approved one by one, each block explained."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workflow import demo
from workflow.errors import GuardFailed
from workflow.models import Partnership, User
from workflow.services.clauses import set_clause
from workflow.services.review import review_clause
from workflow.services.transitions import advance


def test_demo_cn_partnership_from_negotiation_to_approval(session):
    demo.seed(session)
    p = session.scalars(select(Partnership).where(Partnership.title.like("MAGIA%"))).one()
    assert p.stage == "negotiation"
    assert {party.organisation.country for party in p.parties} == {"IT", "CN"}
    owner = p.owner
    legal = session.scalars(select(User).where(User.email == "legal@clusterpact.example")).one()

    with pytest.raises(GuardFailed) as blocked:
        advance(session, p.id, "submit_for_review", owner)
    assert blocked.value.reasons == [
        "Confidentiality: counterpart in CN (Priority Watch List, USTR Special 301, 2025) "
        "requires the NNN confidentiality option or an explicit non-use undertaking."
    ]

    dispute = next(c for c in p.clauses if c.clause_key == "dispute_resolution")
    set_clause(session, owner, p.id, "dispute_resolution", dispute.option_key,
               {**dispute.values, "arbitration_seat": "Shenzhen", "seat_country": "CN"})
    with pytest.raises(GuardFailed) as blocked:
        advance(session, p.id, "submit_for_review", owner)
    assert ("Dispute resolution: counterpart in CN (Priority Watch List, USTR Special 301, "
            "2025) requires arbitration seated outside CN.") in blocked.value.reasons

    set_clause(session, owner, p.id, "dispute_resolution", dispute.option_key,
               {**dispute.values, "arbitration_seat": "Hong Kong", "seat_country": "HK"})
    conf = next(c for c in p.clauses if c.clause_key == "confidentiality")
    set_clause(session, owner, p.id, "confidentiality", "standard",
               {**conf.values, "non_use_undertaking": True})
    p = advance(session, p.id, "submit_for_review", owner)
    assert p.stage == "legal_review"

    with pytest.raises(GuardFailed) as blocked:
        advance(session, p.id, "approve", legal)
    included = [c for c in p.clauses if c.included]
    assert len(blocked.value.reasons) == len(included)
    assert all(r.endswith(": not reviewed yet.") for r in blocked.value.reasons)

    for clause in included[:-1]:
        review_clause(session, legal, p.id, clause.clause_key, "approve")
    with pytest.raises(GuardFailed) as blocked:
        advance(session, p.id, "approve", legal)
    assert len(blocked.value.reasons) == 1
    review_clause(session, legal, p.id, included[-1].clause_key, "approve")
    assert advance(session, p.id, "approve", legal).stage == "approved"
