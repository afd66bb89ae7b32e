"""The demo's active partnerships run their IPR clocks: on the dashboard and in the feed."""

from __future__ import annotations

from sqlalchemy import select

from workflow import demo
from workflow.models import Obligation, Partnership, Publication, User, utcnow
from workflow.services.calendar import feed_events
from workflow.services.obligations import upcoming


def test_active_demo_partnerships_show_their_obligations(session):
    demo.seed(session)
    active = session.scalars(select(Partnership).where(Partnership._stage == "active")
                             .order_by(Partnership.id)).all()
    assert {p.agreement_type for p in active} == {"nnn", "collaboration"}
    for p in active:
        kinds = set(session.scalars(select(Obligation.kind).where(
            Obligation.partnership_id == p.id)))
        assert {"agreement_end", "confidentiality_expiry"} <= kinds
        end = next(o for o in session.scalars(select(Obligation).where(
            Obligation.partnership_id == p.id, Obligation.kind == "agreement_end")))
        assert end.due_on == p.end_date
    pub = session.scalars(select(Publication)).one()
    assert pub.status == "pending"
    today = utcnow().date()
    for p in active:
        owner = session.get(User, p.owner_id)
        shown = upcoming(session, owner, today, limit=50)
        assert p.id in {o.partnership_id for o in shown}
        uids = {e.uid for e in feed_events(session, owner, today)}
        ids = session.scalars(select(Obligation.id).where(Obligation.partnership_id == p.id))
        assert {f"obligation-{i}@clusterpact" for i in ids} <= uids
    partner = session.scalars(select(User).where(
        User.email == "partner@qianhai-meditech.example")).one()
    assert upcoming(session, partner, today) == []  # not a party to an active partnership
