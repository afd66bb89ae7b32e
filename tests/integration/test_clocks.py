"""IPR clocks after activation and `run_clocks`: frozen days, each lead time reminded once,
overdue stages at most once a day, re-runs send nothing new (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import MAIN_PATH, build_partnership, in_threads, prepare_for
from workflow.clauses import spec_of
from workflow.models import AuditEvent, Notification, Obligation, utcnow
from workflow.obligations import add_months, add_years
from workflow.services import partnerships as ps
from workflow.services.clauses import find_clause, set_clause
from workflow.services.clocks import run_clocks
from workflow.services.obligations import upcoming
from workflow.services.transitions import advance

LEADS = (30, 7, 1, 0)


def at(day) -> datetime:
    """A moment in the middle of `day` (UTC)."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


@pytest.fixture
def walk_active(session, make_user, make_org):
    """Walk a new partnership to active with chosen dates and clause values."""

    def walk(agreement_type="collaboration", end_date=None, confidentiality_years=None,
             owner=None, eu=None, counterpart=None, activated_at=None):
        owner = owner or make_user("coordinator")
        legal = make_user("legal")
        eu = eu or make_org("IT")
        counterpart = counterpart or make_org("CN", kind="sme")
        p = build_partnership(session, owner, legal, eu, counterpart, "draft", agreement_type)
        if end_date:
            ps.update_partnership(session, owner, p.id, p.title, start_date=None,
                                  end_date=end_date)
        for trigger in MAIN_PATH[p.workflow_key]:
            prepare_for(session, p, trigger, owner, legal)
            if trigger == "submit_for_review" and confidentiality_years:
                clause = find_clause(p, "confidentiality")
                values = {**spec_of(clause.library_version).option("nnn").default_values(),
                          "term_years": confidentiality_years}
                set_clause(session, owner, p.id, "confidentiality", "nnn", values)
            p = advance(session, p.id, trigger, legal if trigger == "approve" else owner,
                        now=activated_at if trigger == "complete" else None)
        assert p.stage == "active"
        return p

    return walk


def clocks_of(session, p) -> dict[str, Obligation]:
    return {o.kind: o for o in session.scalars(
        select(Obligation).where(Obligation.partnership_id == p.id)).all()}


def reminders(session, kind="obligation_reminder"):
    return session.scalars(select(Notification).where(Notification.kind == kind)
                           .order_by(Notification.id)).all()


def test_activation_schedules_the_clocks_from_the_chosen_clause_values(session, walk_active):
    p = walk_active(confidentiality_years=7)
    today = utcnow().date()
    clocks = clocks_of(session, p)
    assert set(clocks) == {"agreement_end", "renewal_notice", "access_request_window",
                           "confidentiality_expiry"}
    end = clocks["agreement_end"].due_on  # 36 months (term clause default) from activation
    assert (end.year - today.year) * 12 + end.month - today.month == 36
    assert clocks["confidentiality_expiry"].due_on.year == end.year + 7
    assert clocks["confidentiality_expiry"].details["term_years"] == 7
    assert clocks["access_request_window"].details["request_months"] == 12
    assert all(o.status == "open" for o in clocks.values())
    assert clocks["agreement_end"].owner_user_id == p.owner_id
    assert clocks["confidentiality_expiry"].owner_user_id is None  # every party
    assert session.scalar(select(AuditEvent).where(
        AuditEvent.partnership_id == p.id, AuditEvent.action == "obligations_scheduled"))


def test_an_nda_counts_confidentiality_from_its_own_end_date(session, walk_active):
    end = utcnow().date() + timedelta(days=400)
    p = walk_active("nda", end_date=end)
    clocks = clocks_of(session, p)
    assert "access_request_window" not in clocks  # no such clause in an NDA
    assert clocks["agreement_end"].due_on == end
    assert clocks["confidentiality_expiry"].due_on == add_years(end, 4)


def test_each_lead_time_is_reminded_exactly_once_as_the_days_pass(session, walk_active):
    start = utcnow().date()
    p = walk_active(end_date=start + timedelta(days=40))
    end_clock = clocks_of(session, p)["agreement_end"]
    for day in range(0, 45):
        for _run in range(2):  # cron runs every minute: the second run finds nothing to do
            run_clocks(session, at(start + timedelta(days=day)), LEADS)
    sent = Counter(n.dedupe_key for n in reminders(session)
                   if n.dedupe_key.startswith(f"obligation:{end_clock.id}:"))
    assert sent == {f"obligation:{end_clock.id}:lead:{lead}": 1 for lead in LEADS}
    assert {n.dedupe_key for n in reminders(session)} == set(sent)  # nothing else is near
    session.refresh(end_clock)
    assert end_clock.status == "lapsed" and end_clock.reminded_lead == 0


def test_a_reminder_goes_out_on_the_day_its_lead_time_is_reached(session, walk_active):
    start = utcnow().date()
    p = walk_active(end_date=start + timedelta(days=40))
    due = start + timedelta(days=40)
    assert run_clocks(session, at(due - timedelta(days=31)), LEADS).reminders == 0
    assert run_clocks(session, at(due - timedelta(days=30)), LEADS).reminders == 1
    assert run_clocks(session, at(due - timedelta(days=8)), LEADS).reminders == 0
    assert run_clocks(session, at(due - timedelta(days=7)), LEADS).reminders == 1
    (first, second) = reminders(session)
    assert first.subject == f"{p.reference}: Agreement ends in 30 days"
    assert "due on " + due.isoformat() in second.body
    assert first.link == f"/partnerships/{p.id}#obligations"


def test_rerunning_the_clocks_sends_nothing_new(session, walk_active):
    p = walk_active()
    due = clocks_of(session, p)["confidentiality_expiry"].due_on
    first = run_clocks(session, at(due - timedelta(days=3)), LEADS)
    again = run_clocks(session, at(due - timedelta(days=3)) + timedelta(minutes=1), LEADS)
    assert first.reminders >= 1 and again.reminders == 0
    assert len(reminders(session)) == first.reminders


def test_reminders_reach_the_owner_and_the_parties_of_the_clock_only(session, walk_active,
                                                                     make_org, make_user):
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    owner = make_user("coordinator")
    partner_eu = make_user("partner", organisation=eu)
    partner_cn = make_user("partner", organisation=cn)
    outsider = make_user("partner", organisation=make_org("BR", kind="sme"))
    p = walk_active(owner=owner, eu=eu, counterpart=cn)
    clocks = clocks_of(session, p)
    run_clocks(session, at(clocks["renewal_notice"].due_on), LEADS)
    assert {n.user_id for n in reminders(session)} == {owner.id}  # the owner's decision
    run_clocks(session, at(clocks["confidentiality_expiry"].due_on - timedelta(days=1)), LEADS)
    secrecy = [n for n in reminders(session) if n.dedupe_key.startswith(
        f"obligation:{clocks['confidentiality_expiry'].id}:")]
    assert {n.user_id for n in secrecy} == {owner.id, partner_eu.id, partner_cn.id}
    assert outsider.id not in {n.user_id for n in reminders(session)}


def test_a_partner_sees_only_their_organisations_obligations(session, walk_active, make_org,
                                                             make_user):
    cn, br = make_org("CN", kind="sme"), make_org("BR", kind="sme")
    ours = walk_active(counterpart=cn)
    walk_active(counterpart=br)
    partner_cn = make_user("partner", organisation=cn)
    today = utcnow().date()
    seen = upcoming(session, partner_cn, today, limit=50)
    assert seen and {o.partnership_id for o in seen} == {ours.id}
    owner_view = upcoming(session, ours.owner, today, limit=50)
    assert {o.partnership_id for o in owner_view} == {ours.id}
    assert len(upcoming(session, make_user("legal"), today, limit=50)) == 8


def test_obligations_lapse_the_day_after_they_are_due(session, walk_active):
    start = utcnow().date()
    p = walk_active(end_date=start + timedelta(days=10))
    end_clock = clocks_of(session, p)["agreement_end"]
    assert run_clocks(session, at(end_clock.due_on), LEADS).lapsed == 0
    result = run_clocks(session, at(end_clock.due_on + timedelta(days=1)), LEADS)
    assert result.lapsed == 1
    session.refresh(end_clock)
    assert end_clock.status == "lapsed"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "obligation_lapsed",
                                                   AuditEvent.partnership_id == p.id))
    assert run_clocks(session, at(end_clock.due_on + timedelta(days=2)), LEADS).lapsed == 0


def test_termination_moves_the_clocks_that_count_from_the_end(session, walk_active):
    p = walk_active(end_date=utcnow().date() + timedelta(days=700))
    terminated = utcnow() + timedelta(days=5)
    advance(session, p.id, "terminate", p.owner, comment="Counterpart insolvent.",
            now=terminated)
    clocks = clocks_of(session, p)
    for o in clocks.values():
        session.refresh(o)
    ended = terminated.date()
    assert clocks["agreement_end"].status == "done"
    assert clocks["renewal_notice"].status == "cancelled"
    assert clocks["access_request_window"].due_on == add_months(ended, 12)
    assert clocks["confidentiality_expiry"].due_on == add_years(ended, 4)


def test_an_overdue_stage_reminds_its_owner_at_most_once_a_day(session, make_partnership):
    p = make_partnership("draft")  # due in 30 days
    later = utcnow() + timedelta(days=31)
    assert run_clocks(session, later, LEADS).overdue == 1
    assert run_clocks(session, later + timedelta(hours=2), LEADS).overdue == 0
    assert run_clocks(session, later + timedelta(days=1), LEADS).overdue == 1
    rows = reminders(session, "stage_overdue")
    assert [r.user_id for r in rows] == [p.owner_id, p.owner_id]
    assert len({r.dedupe_key for r in rows}) == 2
    assert rows[0].subject == f"{p.reference}: Draft is overdue"
    assert run_clocks(session, utcnow() + timedelta(days=29), LEADS).overdue == 0


def test_concurrent_runs_send_each_reminder_once(database, session, walk_active):
    p = walk_active(end_date=utcnow().date() + timedelta(days=7))
    moment = at(clocks_of(session, p)["agreement_end"].due_on - timedelta(days=7))
    results = []

    def run():
        with database.sessions() as s:
            results.append(run_clocks(s, moment, LEADS))

    assert in_threads(run, 3) == []
    session.rollback()  # end this session's read snapshot: see what the threads wrote
    assert sum(r.reminders for r in results) == len(reminders(session)) >= 1
    keys = Counter((n.user_id, n.dedupe_key) for n in reminders(session))
    assert set(keys.values()) == {1}
