"""Legal review clause by clause, comments, and safeguard waivers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..definitions import get_workflow
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..models import ClauseReview, Comment, Partnership, SafeguardRule, SafeguardWaiver, utcnow
from ..models.clauses import DECISIONS, VISIBILITIES
from ..notifications import notify
from ..roles import LEGAL, PARTNER, STAFF_ROLES
from ..validation import clean_text
from ._base import check_version, load_partnership, require_role, write
from .clauses import find_clause

MAX_COMMENT = 5000


def _require_review_stage(partnership: Partnership) -> None:
    state = get_workflow(partnership.workflow_key).state(partnership.stage)
    if not state.reviewing:
        raise Conflict(f"{partnership.reference} is in stage '{state.label}'; clauses are "
                       "reviewed only during legal review.")


def _comment(text, required: bool):
    body, error = clean_text(text, max_length=MAX_COMMENT, required=required, multiline=True)
    if error:
        raise ValidationFailed("The comment is not valid.", {"comment": error})
    return body


def review_clause(
    session: Session, actor, partnership_id: int, clause_key: str, decision: str,
    comment: str | None = None, visibility: str = "internal",
    expected_version: int | None = None,
) -> ClauseReview:
    """Record a legal advisor's decision on the current revision of one clause."""
    require_role(actor, LEGAL, doing="review clauses")
    if decision not in DECISIONS:
        raise ValidationFailed("Unknown decision.", {"decision": "approve or request_changes"})
    if visibility not in VISIBILITIES:
        raise ValidationFailed("Unknown visibility.", {"visibility": "internal or partner"})
    body = _comment(comment, required=decision == "request_changes")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        _require_review_stage(partnership)
        if decision == "approve" and actor.id == partnership.owner_id:
            raise PermissionDenied("The partnership owner cannot approve its clauses.")
        clause = find_clause(partnership, clause_key)
        review = ClauseReview(reviewer_id=actor.id, decision=decision, comment=body,
                              visibility=visibility, clause_revision=clause.revision,
                              created_at=utcnow())
        clause.reviews.append(review)
        partnership.touch()
        audit.record(session, actor, f"clause_{decision}", partnership=partnership,
                     comment=body, details={"clause": clause_key, "revision": clause.revision,
                                            "visibility": visibility})
        if decision == "request_changes":
            notify(session, [partnership.owner], "clause_changes_requested", {
                "actor_name": actor.display_name, "clause_title": clause.library_version.title,
                "comment": body}, partnership=partnership,
                link=f"/partnerships/{partnership.id}#clauses")
    return review


def add_comment(
    session: Session, actor, partnership_id: int, body: str, visibility: str = "internal",
    clause_key: str | None = None,
) -> Comment:
    """Post a comment; partners always post partner-visible comments."""
    if actor.role == PARTNER:
        visibility = "partner"
    elif actor.role not in STAFF_ROLES:
        raise PermissionDenied("Your role cannot comment.")
    if visibility not in VISIBILITIES:
        raise ValidationFailed("Unknown visibility.", {"visibility": "internal or partner"})
    text = _comment(body, required=True)
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        if clause_key is not None:
            find_clause(partnership, clause_key)
        comment = Comment(partnership_id=partnership.id, clause_key=clause_key,
                          author_id=actor.id, body=text, visibility=visibility,
                          created_at=utcnow())
        session.add(comment)
        session.flush()
        # The text stays with the comment (partners read it only if it is shared with them);
        # the trail records who posted which one, where and for whom.
        audit.record(session, actor, "comment_posted", partnership=partnership,
                     details={"comment_id": comment.id, "clause": clause_key,
                              "visibility": visibility})
    return comment


def visible_comments(session: Session, actor, partnership: Partnership) -> list[Comment]:
    """The comments the actor may read: partners never receive internal ones."""
    stmt = select(Comment).where(Comment.partnership_id == partnership.id)
    if actor.role not in STAFF_ROLES:
        stmt = stmt.where(Comment.visibility == "partner")
    return list(session.scalars(stmt.order_by(Comment.id)))


def visible_reviews(actor, clause) -> list[ClauseReview]:
    """A clause's reviews as the actor may see them (partners: partner-visible only)."""
    if actor.role in STAFF_ROLES:
        return list(clause.reviews)
    return [r for r in clause.reviews if r.visibility == "partner"]


def waive_rule(
    session: Session, actor, partnership_id: int, rule_key: str, comment: str,
    expected_version: int | None = None,
) -> SafeguardWaiver:
    """Lift one blocking safeguard rule for one partnership, with a recorded reason."""
    require_role(actor, LEGAL, doing="waive safeguards")
    body = _comment(comment, required=True)
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        rule = session.get(SafeguardRule, rule_key)
        if rule is None:
            raise NotFound(f"No safeguard rule {rule_key!r}.")
        if rule.severity != "block":
            raise Conflict(f"Rule {rule_key!r} only warns; there is nothing to waive.")
        if any(w.rule_key == rule_key for w in partnership.waivers):
            raise Conflict(f"Rule {rule_key!r} is already waived for {partnership.reference}.")
        state = get_workflow(partnership.workflow_key).state(partnership.stage)
        if not (state.editable or state.reviewing):
            raise Conflict(f"{partnership.reference} is in stage '{state.label}'; safeguards "
                           "are waived before approval only.")
        from ..risk import safeguard_results

        if not any(r.rule_key == rule_key for r in safeguard_results(session, partnership)):
            raise Conflict(f"Rule {rule_key!r} does not apply to {partnership.reference}.")
        waiver = SafeguardWaiver(rule_key=rule_key, waived_by_id=actor.id, comment=body,
                                 created_at=utcnow())
        partnership.waivers.append(waiver)
        partnership.touch()
        audit.record(session, actor, "safeguard_waived", partnership=partnership,
                     comment=body, details={"rule": rule_key})
    return waiver

