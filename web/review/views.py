"""Review pages. Partners never reach internal comments: the queries filter them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from contracts.agreement import build_snapshot
from contracts.diff import word_diff
from workflow import agreement_types, queries
from workflow.clause_view import clause_rows
from workflow.clauses import PENDING, spec_of
from workflow.definitions import get_workflow
from workflow.risk import load_risk
from workflow.safeguards import evaluate
from workflow.services import review as svc

from ..db import get_db
from .forms import CommentForm, ReviewForm, WaiverForm

bp = Blueprint("review", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def queue_items(db) -> list[tuple]:
    """(partnership, clauses pending, unmet flags) for every partnership in review."""
    items = []
    for p in queries.review_queue(db):
        rows = clause_rows(p, evaluate(p, load_risk(db, p)), {})
        items.append((p, sum(1 for r in rows if r.included and r.status != "approved"),
                      [f for r in rows for f in r.flags if not f.met]))
    return items


@bp.get("/review/")
def queue():
    if not current_user.is_staff:
        abort(403, "The review queue is for cluster staff and legal advisors.")
    return render_template("review/queue.html", items=queue_items(get_db()))


@bp.get("/partnerships/<int:partnership_id>/review")
def page(partnership_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    if not current_user.is_staff:
        abort(403, "Clause review is for cluster staff and legal advisors.")
    risk = load_risk(db, p)
    results = evaluate(p, risk)
    rows = clause_rows(p, results, risk.tiers_by_country)
    snapshot = build_snapshot(p, agreement_types.label(p.agreement_type))
    texts = {c.key: c.paragraphs for c in snapshot.clauses}
    diffs = {r.key: word_diff(_standard(r.clause, snapshot), r.clause.override_text)
             for r in rows if r.negotiated}
    return render_template(
        "review/page.html", p=p, rows=rows, texts=texts, diffs=diffs, results=results,
        reviewing=get_workflow(p.workflow_key).state(p.stage).reviewing,
        review_form=ReviewForm(expected_version=p.version, visibility="internal"),
        waiver_form=WaiverForm(expected_version=p.version), PENDING=PENDING)


def _standard(clause, snapshot) -> str:
    """The library wording of the chosen option with the clause's values filled in."""
    from contracts.agreement import standard_paragraphs

    return "\n\n".join(standard_paragraphs(clause, snapshot))


@bp.post("/partnerships/<int:partnership_id>/clauses/<clause_key>/reviews")
def decide(partnership_id: int, clause_key: str):
    form = ReviewForm()
    form.visibility.choices = ["internal", "partner"]
    if not form.validate_on_submit():
        abort(400, "Choose a decision and try again.")
    review = svc.review_clause(get_db(), current_user, partnership_id, clause_key,
                               form.decision.data, form.comment.data, form.visibility.data,
                               expected_version=form.expected_version.data)
    title = spec_of(review.clause.library_version).title
    flash(f"{title}: {'approved' if review.decision == 'approve' else 'changes requested'}.",
          "success")
    return redirect(url_for(".page", partnership_id=partnership_id) + f"#clause-{clause_key}")


@bp.post("/partnerships/<int:partnership_id>/waivers/<rule_key>")
def waive(partnership_id: int, rule_key: str):
    form = WaiverForm()
    if not form.validate_on_submit():
        abort(422, "A waiver needs a comment that explains it.")
    svc.waive_rule(get_db(), current_user, partnership_id, rule_key, form.comment.data,
                   expected_version=form.expected_version.data)
    flash("Waiver recorded in the audit trail.", "success")
    return redirect(url_for(".page", partnership_id=partnership_id) + "#safeguards")


@bp.post("/partnerships/<int:partnership_id>/comments")
def comment(partnership_id: int):
    form = CommentForm()
    if not form.validate_on_submit():
        abort(422, "A comment cannot be empty.")
    svc.add_comment(get_db(), current_user, partnership_id, form.body.data,
                    form.visibility.data)
    flash("Comment posted.", "success")
    return redirect(url_for("partnerships.detail", partnership_id=partnership_id) + "#comments")
