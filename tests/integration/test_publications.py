"""Publication notices and objections under an active agreement (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from workflow.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workflow.models import Notification, Obligation, utcnow
from workflow.services.clocks import run_clocks
from workflow.services.obligations import complete_obligation
from workflow.services.publications import record_objection, register_publication

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def deal(active_deal):
    p, people = active_deal
    lead, counterpart = p.parties
    return p, lead, counterpart, people


def notices(session, kind):
    return session.scalars(select(Notification).where(Notification.kind == kind)).all()


def windows(session, pub_id):
    return session.scalars(select(Obligation).where(Obligation.publication_id == pub_id)
                           .order_by(Obligation.id)).all()


def test_a_notice_starts_the_objection_window_and_tells_the_other_parties(session, deal):
    p, lead, counterpart, people = deal
    pub = register_publication(session, people["partner_eu"], p.id, lead.id,
                               "Microfluidic assay results", NOW.date() + timedelta(days=60),
                               venue="Lab on a Chip", now=NOW)
    assert pub.objection_deadline == NOW.date() + timedelta(days=30)  # clause default
    assert pub.max_delay_days == 90 and pub.latest_on is None and pub.status == "pending"
    (window,) = windows(session, pub.id)
    assert (window.kind, window.owner_party_id, window.due_on) == (
        "publication_objection_window", counterpart.id, pub.objection_deadline)
    told = {n.user_id for n in notices(session, "publication_registered")}
    assert told == {people["owner"].id, people["partner_cn"].id}
    (mail,) = [n for n in notices(session, "publication_registered")
               if n.user_id == people["partner_cn"].id]
    assert "Microfluidic assay results" in mail.subject
    assert pub.objection_deadline.isoformat() in mail.body


def test_the_notice_period_of_the_clause_is_enforced(session, deal):
    p, lead, _counterpart, people = deal
    with pytest.raises(ValidationFailed) as refused:
        register_publication(session, people["owner"], p.id, lead.id, "Too soon",
                             NOW.date() + timedelta(days=44), now=NOW)
    assert "45 days" in refused.value.field_errors["planned_on"]
    with pytest.raises(ValidationFailed) as empty:
        register_publication(session, people["owner"], p.id, lead.id, "  ", None, now=NOW)
    assert set(empty.value.field_errors) == {"title", "planned_on"}


def test_partners_give_notice_only_for_their_own_party_and_partnership(session, deal):
    p, lead, counterpart, people = deal
    with pytest.raises(PermissionDenied):
        register_publication(session, people["partner_cn"], p.id, lead.id, "Not ours",
                             NOW.date() + timedelta(days=60), now=NOW)
    with pytest.raises(NotFound):
        register_publication(session, people["outsider"], p.id, counterpart.id, "Foreign",
                             NOW.date() + timedelta(days=60), now=NOW)


def test_an_objection_starts_the_maximum_delay_and_tells_the_publisher(session, deal):
    p, lead, counterpart, people = deal
    pub = register_publication(session, people["partner_eu"], p.id, lead.id, "Sensor paper",
                               NOW.date() + timedelta(days=50), now=NOW)
    objected_at = NOW + timedelta(days=10)
    record_objection(session, people["partner_cn"], p.id, pub.id, counterpart.id,
                     "Discloses our calibration know-how.",
                     "Remove section 4 or wait until our application is filed.", now=objected_at)
    session.refresh(pub)
    assert pub.status == "objected"
    assert pub.latest_on == objected_at.date() + timedelta(days=90)
    window, delay = windows(session, pub.id)
    assert window.status == "done"
    assert (delay.kind, delay.owner_party_id, delay.due_on, delay.status) == (
        "publication_max_delay", lead.id, pub.latest_on, "open")
    told = {n.user_id for n in notices(session, "publication_objection")}
    assert told == {people["owner"].id, people["partner_eu"].id}
    body = notices(session, "publication_objection")[0].body
    assert "Remove section 4" in body and pub.latest_on.isoformat() in body


def test_objections_are_refused_late_twice_or_from_the_publisher(session, deal):
    p, lead, counterpart, people = deal
    pub = register_publication(session, people["owner"], p.id, lead.id, "Poster",
                               NOW.date() + timedelta(days=45), now=NOW)
    with pytest.raises(ValidationFailed):
        record_objection(session, people["owner"], p.id, pub.id, lead.id, "r", "c", now=NOW)
    with pytest.raises(Conflict):
        record_objection(session, people["partner_cn"], p.id, pub.id, counterpart.id,
                         "Too late", "None", now=NOW + timedelta(days=31))
    with pytest.raises(ValidationFailed) as blank:
        record_objection(session, people["partner_cn"], p.id, pub.id, counterpart.id,
                         "", "", now=NOW)
    assert set(blank.value.field_errors) == {"reason", "requested_change"}
    record_objection(session, people["partner_cn"], p.id, pub.id, counterpart.id,
                     "Reason", "Change", now=NOW + timedelta(days=30))
    with pytest.raises(Conflict):
        record_objection(session, people["owner"], p.id, pub.id, counterpart.id,
                         "Again", "Again", now=NOW + timedelta(days=30))


def test_publications_need_an_active_agreement_with_a_publication_clause(
        session, make_partnership, make_user):
    signing = make_partnership("signing")
    with pytest.raises(Conflict):
        register_publication(session, signing.owner, signing.id, signing.parties[0].id,
                             "Early", utcnow().date() + timedelta(days=60))
    nda = make_partnership("active", agreement_type="nda")
    with pytest.raises(Conflict, match="no publication clause"):
        register_publication(session, nda.owner, nda.id, nda.parties[0].id, "NDA paper",
                             utcnow().date() + timedelta(days=60))


def test_an_unopposed_publication_is_cleared_when_the_window_closes(session, deal):
    p, lead, _counterpart, people = deal
    pub = register_publication(session, people["owner"], p.id, lead.id, "Talk",
                               NOW.date() + timedelta(days=45), now=NOW)
    assert run_clocks(session, NOW + timedelta(days=30)).cleared == 0
    result = run_clocks(session, NOW + timedelta(days=31))
    assert (result.cleared, result.lapsed) == (1, 1)
    session.refresh(pub)
    assert pub.status == "cleared"
    assert windows(session, pub.id)[0].status == "lapsed"


def test_a_party_marks_its_objection_window_done_when_it_does_not_object(session, deal):
    p, lead, counterpart, people = deal
    pub = register_publication(session, people["owner"], p.id, lead.id, "Abstract",
                               NOW.date() + timedelta(days=45), now=NOW)
    (window,) = windows(session, pub.id)
    with pytest.raises(PermissionDenied):  # the publisher's partner does not own the window
        complete_obligation(session, people["partner_eu"], p.id, window.id)
    done = complete_obligation(session, people["partner_cn"], p.id, window.id)
    assert done.status == "done" and done.closed_at is not None
    with pytest.raises(Conflict):
        complete_obligation(session, people["partner_cn"], p.id, window.id)
    end = session.scalar(select(Obligation).where(Obligation.partnership_id == p.id,
                                                  Obligation.kind == "agreement_end"))
    with pytest.raises(PermissionDenied):  # a date that passes, not a task
        complete_obligation(session, people["owner"], p.id, end.id)
    with pytest.raises(NotFound):
        complete_obligation(session, people["outsider"], p.id, end.id)
