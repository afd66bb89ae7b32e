"""Legal review clause by clause (DOMAIN.md 4): decisions, staleness after a change, the
approve transition's guards, and what partners may read of comments and reviews."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from workflow.clauses import APPROVED, CHANGES_REQUESTED, PENDING, STALE, review_status, spec_of
from workflow.demo import approve_all_clauses, make_compliant
from workflow.engine import check_transition
from workflow.errors import (
    Conflict,
    GuardFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from workflow.models import AuditEvent, ClauseReview, Comment, Partnership, User
from workflow.services.clauses import find_clause, set_clause
from workflow.services.review import (
    add_comment,
    review_clause,
    visible_comments,
    visible_reviews,
)
from workflow.services.transitions import advance

OWNER_REASON = "The partnership owner cannot approve it; another legal advisor must."


@pytest.fixture
def counterpart(make_org):
    return make_org("CN", kind="sme")


@pytest.fixture
def in_review(make_partnership, counterpart):
    """A collaboration with a Chinese counterpart in legal review, no clause reviewed yet."""
    return make_partnership("legal_review", counterpart=counterpart)


@pytest.fixture
def legal(make_user):
    return make_user("legal")


def status_of(database, pid, clause_key) -> str:
    with database.sessions() as s:
        return review_status(find_clause(s.get(Partnership, pid), clause_key))


def state_of(database, pid):
    """Stage, version, review count and audit-event count as stored."""
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        reviews = sum(len(c.reviews) for c in p.clauses)
        events = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.partnership_id == pid))
        return p.stage, p.version, reviews, events


def approve_reasons(session, pid, actor) -> list[str]:
    with pytest.raises(GuardFailed) as err:
        advance(session, pid, "approve", actor)
    return err.value.reasons


def included_keys(p) -> list[str]:
    return [c.clause_key for c in sorted(p.clauses, key=lambda c: c.library_version.sort_order)
            if c.included]


# --- single clause decisions -----------------------------------------------------------------


def test_legal_approval_makes_the_clause_approved(database, session, in_review, legal):
    assert status_of(database, in_review.id, "confidentiality") == PENDING
    review = review_clause(session, legal, in_review.id, "confidentiality", "approve")
    assert status_of(database, in_review.id, "confidentiality") == APPROVED
    assert status_of(database, in_review.id, "publication") == PENDING
    with database.sessions() as s:
        stored = s.get(ClauseReview, review.id)
        clause = find_clause(s.get(Partnership, in_review.id), "confidentiality")
        assert (stored.reviewer_id, stored.decision, stored.clause_revision) == (
            legal.id, "approve", clause.revision)
        event = s.scalars(select(AuditEvent).where(AuditEvent.partnership_id == in_review.id)
                          .order_by(AuditEvent.id.desc())).first()
        assert event.action == "clause_approve"
        assert event.details["clause"] == "confidentiality"


def test_request_changes_with_a_comment_marks_the_clause(database, session, in_review, legal):
    review_clause(session, legal, in_review.id, "liability", "request_changes",
                  comment="Cap at 2x, please.")
    assert status_of(database, in_review.id, "liability") == CHANGES_REQUESTED


@pytest.mark.parametrize("comment", [None, "", "  \n "])
def test_request_changes_without_a_comment_is_invalid_and_writes_nothing(
        database, session, in_review, legal, comment):
    before = state_of(database, in_review.id)
    with pytest.raises(ValidationFailed) as err:
        review_clause(session, legal, in_review.id, "liability", "request_changes",
                      comment=comment)
    assert "comment" in err.value.field_errors
    assert state_of(database, in_review.id) == before
    assert status_of(database, in_review.id, "liability") == PENDING


def test_unknown_decision_is_invalid(database, session, in_review, legal):
    before = state_of(database, in_review.id)
    with pytest.raises(ValidationFailed):
        review_clause(session, legal, in_review.id, "liability", "rubber_stamp")
    assert state_of(database, in_review.id) == before


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_only_legal_reviews_clauses(database, session, in_review, make_user, role):
    actor = in_review.owner if role == "coordinator" else make_user(role)
    before = state_of(database, in_review.id)
    with pytest.raises(PermissionDenied):
        review_clause(session, actor, in_review.id, "liability", "approve")
    assert state_of(database, in_review.id) == before


def test_partner_cannot_review_clauses(database, session, in_review, make_user, counterpart):
    partner = make_user("partner", organisation=counterpart)
    with pytest.raises(PermissionDenied):
        review_clause(session, partner, in_review.id, "liability", "approve")


@pytest.mark.parametrize("stage", ["negotiation", "approved"])
def test_reviewing_outside_legal_review_is_a_conflict(database, session, make_partnership,
                                                      legal, stage):
    p = make_partnership(stage)
    before = state_of(database, p.id)
    with pytest.raises(Conflict):
        review_clause(session, legal, p.id, "liability", "approve")
    assert state_of(database, p.id) == before


def test_reviewing_an_unknown_clause_is_not_found(session, in_review, legal):
    with pytest.raises(NotFound):
        review_clause(session, legal, in_review.id, "no_such_clause", "approve")


# --- the owner cannot approve ------------------------------------------------------------------


def test_approver_not_owner_guard_blocks_a_legal_actor_who_owns_the_partnership(
        session, in_review, legal):
    approve_all_clauses(session, legal, in_review)
    p = session.get(Partnership, in_review.id, populate_existing=True)
    as_owner = SimpleNamespace(id=p.owner_id, role="legal", organisation_id=None)
    with pytest.raises(GuardFailed) as err:
        check_transition(p, "approve", as_owner)
    assert err.value.reasons == [OWNER_REASON]
    other = SimpleNamespace(id=legal.id, role="legal", organisation_id=None)
    assert check_transition(p, "approve", other).trigger == "approve"


def test_owner_who_became_legal_cannot_approve_clauses_or_the_agreement(
        database, session, in_review, legal):
    """No service changes a role; a role changed in the data must still not let the owner
    approve their own partnership."""
    approve_all_clauses(session, legal, in_review)
    session.execute(update(User).where(User.id == in_review.owner_id).values(role="legal"))
    session.commit()
    owner = session.get(User, in_review.owner_id, populate_existing=True)
    assert owner.role == "legal"
    before = state_of(database, in_review.id)
    with pytest.raises(PermissionDenied):
        review_clause(session, owner, in_review.id, "liability", "approve")
    assert approve_reasons(session, in_review.id, owner) == [OWNER_REASON]
    assert state_of(database, in_review.id) == before


# --- the approve transition ----------------------------------------------------------------


def test_approve_needs_every_included_clause_approved(database, session, in_review, legal):
    keys = included_keys(in_review)
    for key in keys[:-1]:
        review_clause(session, legal, in_review.id, key, "approve")
    last = find_clause(in_review, keys[-1])
    title = spec_of(last.library_version).title
    assert approve_reasons(session, in_review.id, legal) == [f"{title}: not reviewed yet."]
    assert state_of(database, in_review.id)[0] == "legal_review"
    review_clause(session, legal, in_review.id, keys[-1], "approve")
    p = advance(session, in_review.id, "approve", legal)
    assert p.stage == "approved"
    assert state_of(database, in_review.id)[0] == "approved"


def test_approve_is_blocked_by_a_clause_with_changes_requested(session, in_review, legal):
    approve_all_clauses(session, legal, in_review)
    review_clause(session, legal, in_review.id, "publication", "request_changes",
                  comment="Shorten the delay.")
    assert approve_reasons(session, in_review.id, legal) == ["Publication: changes requested."]


def test_every_unreviewed_clause_is_named(session, in_review, legal):
    reasons = approve_reasons(session, in_review.id, legal)
    titles = [spec_of(find_clause(in_review, k).library_version).title
              for k in included_keys(in_review)]
    assert reasons == [f"{t}: not reviewed yet." for t in titles]


def test_excluded_clauses_need_no_approval(database, session, make_partnership, legal):
    p = make_partnership("negotiation")
    make_compliant(session, p.owner, p)
    clause = find_clause(p, "return_of_information")  # optional in a collaboration
    set_clause(session, p.owner, p.id, "return_of_information", clause.option_key,
               clause.values, included=False)
    advance(session, p.id, "submit_for_review", p.owner)
    p = session.get(Partnership, p.id, populate_existing=True)
    assert "return_of_information" not in included_keys(p)
    approve_all_clauses(session, legal, p)
    assert status_of(database, p.id, "return_of_information") == PENDING
    assert advance(session, p.id, "approve", legal).stage == "approved"


def test_approval_goes_stale_when_the_coordinator_changes_the_clause(
        database, session, in_review, legal):
    owner = in_review.owner
    approve_all_clauses(session, legal, in_review)
    assert status_of(database, in_review.id, "confidentiality") == APPROVED
    advance(session, in_review.id, "request_changes", legal,
            comment="The counterpart wants a longer term.")
    assert state_of(database, in_review.id)[0] == "negotiation"
    clause = find_clause(session.get(Partnership, in_review.id), "confidentiality")
    set_clause(session, owner, in_review.id, "confidentiality", clause.option_key,
               {**clause.values, "term_years": 7})
    assert status_of(database, in_review.id, "confidentiality") == STALE
    assert status_of(database, in_review.id, "publication") == APPROVED
    advance(session, in_review.id, "submit_for_review", owner)
    assert approve_reasons(session, in_review.id, legal) == [
        "Confidentiality: changed since it was approved."
    ]
    assert state_of(database, in_review.id)[0] == "legal_review"
    review_clause(session, legal, in_review.id, "confidentiality", "approve")
    assert status_of(database, in_review.id, "confidentiality") == APPROVED
    assert advance(session, in_review.id, "approve", legal).stage == "approved"


def test_clause_changed_after_a_change_request_is_not_reported_as_changed_since_approved(
        database, session, in_review, legal):
    """review_status documents 'stale' as 'approved, then changed'. A clause that was never
    approved (changes were requested, then the coordinator changed it) awaits a fresh
    review; telling legal it 'changed since it was approved' is false."""
    owner = in_review.owner
    review_clause(session, legal, in_review.id, "confidentiality", "request_changes",
                  comment="Use a seven-year term.")
    advance(session, in_review.id, "request_changes", legal, comment="See the clause notes.")
    clause = find_clause(session.get(Partnership, in_review.id), "confidentiality")
    set_clause(session, owner, in_review.id, "confidentiality", clause.option_key,
               {**clause.values, "term_years": 7})
    advance(session, in_review.id, "submit_for_review", owner)
    assert status_of(database, in_review.id, "confidentiality") != STALE
    reasons = approve_reasons(session, in_review.id, legal)
    confidentiality = [r for r in reasons if r.startswith("Confidentiality:")]
    assert confidentiality and "changed since it was approved" not in confidentiality[0]


# --- comments and what partners see -----------------------------------------------------------


def test_partners_never_receive_internal_comments(database, session, in_review, legal,
                                                   make_user, counterpart):
    partner = make_user("partner", organisation=counterpart)
    add_comment(session, in_review.owner, in_review.id, "Internal: they will accept 2x.",
                visibility="internal")
    add_comment(session, legal, in_review.id, "Please confirm the seat in Geneva.",
                visibility="partner", clause_key="dispute_resolution")
    add_comment(session, legal, in_review.id, "Internal: check export licence.")  # default
    add_comment(session, partner, in_review.id, "Geneva is fine for us.", visibility="partner")
    p = session.get(Partnership, in_review.id)
    seen = [(c.body, c.visibility) for c in visible_comments(session, partner, p)]
    assert seen == [("Please confirm the seat in Geneva.", "partner"),
                    ("Geneva is fine for us.", "partner")]
    for staff in (in_review.owner, legal, make_user("admin")):
        assert [c.body for c in visible_comments(session, staff, p)] == [
            "Internal: they will accept 2x.", "Please confirm the seat in Geneva.",
            "Internal: check export licence.", "Geneva is fine for us."]


def test_every_comment_is_in_the_audit_trail_without_its_text(database, session, in_review,
                                                                legal):
    internal = add_comment(session, in_review.owner, in_review.id, "Internal: they will accept 2x.")
    shared = add_comment(session, legal, in_review.id, "Please confirm the seat in Geneva.",
                         visibility="partner", clause_key="dispute_resolution")
    with database.sessions() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.partnership_id == in_review.id, AuditEvent.action == "comment_posted")
            .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.comment, e.details) for e in events] == [
        (in_review.owner.id, None, {"comment_id": internal.id, "clause": None,
                                    "visibility": "internal"}),
        (legal.id, None, {"comment_id": shared.id, "clause": "dispute_resolution",
                          "visibility": "partner"})]


def test_a_partner_cannot_post_an_internal_comment(database, session, in_review, make_user,
                                                   counterpart):
    partner = make_user("partner", organisation=counterpart)
    comment = add_comment(session, partner, in_review.id, "Only for your lawyers?",
                          visibility="internal")
    with database.sessions() as s:
        assert s.get(Comment, comment.id).visibility == "partner"
    p = session.get(Partnership, in_review.id)
    assert [c.body for c in visible_comments(session, partner, p)] == ["Only for your lawyers?"]


def test_a_partner_of_another_organisation_cannot_comment(database, session, in_review,
                                                          make_user, make_org):
    stranger = make_user("partner", organisation=make_org("IN", kind="sme"))
    with pytest.raises(NotFound):
        add_comment(session, stranger, in_review.id, "Hello?")
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 0


def test_empty_comment_or_unknown_visibility_is_invalid(database, session, in_review, legal):
    with pytest.raises(ValidationFailed):
        add_comment(session, legal, in_review.id, "   ")
    with pytest.raises(ValidationFailed):
        add_comment(session, legal, in_review.id, "Hi", visibility="public")
    with pytest.raises(NotFound):
        add_comment(session, legal, in_review.id, "Hi", clause_key="no_such_clause")
    with database.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 0


def test_partners_see_only_partner_visible_reviews(database, session, in_review, legal,
                                                   make_user, counterpart):
    partner = make_user("partner", organisation=counterpart)
    review_clause(session, legal, in_review.id, "liability", "request_changes",
                  comment="Internal: our insurer caps at 1x.", visibility="internal")
    review_clause(session, legal, in_review.id, "liability", "request_changes",
                  comment="Please accept a cap at 1x the contract value.",
                  visibility="partner")
    review_clause(session, legal, in_review.id, "liability", "approve",
                  comment="Internal: fine after all.")
    with database.sessions() as s:
        clause = find_clause(s.get(Partnership, in_review.id), "liability")
        assert [r.comment for r in visible_reviews(partner, clause)] == [
            "Please accept a cap at 1x the contract value."]
        for staff in (in_review.owner, legal):
            assert [r.comment for r in visible_reviews(staff, clause)] == [
                "Internal: our insurer caps at 1x.",
                "Please accept a cap at 1x the contract value.",
                "Internal: fine after all."]
