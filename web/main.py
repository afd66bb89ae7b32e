"""Home and the per-role dashboards."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from workflow import listing, queries
from workflow.definitions import registry
from workflow.models import utcnow
from workflow.services import obligations

from .db import get_db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    db, role = get_db(), current_user.role
    context = {"recent": listing.recent(db, current_user), "today": (today := utcnow().date()),
               "obligations": obligations.upcoming(db, current_user, today)}
    if role == "coordinator":
        context.update(counts=listing.stage_counts(db, current_user),
                       board=listing.board(db, current_user),
                       waiting=listing.waiting_for(db, current_user),
                       overdue=listing.overdue(db, current_user, owner_id=current_user.id),
                       states=registry()["cluster_partnership"].states)
    elif role == "legal":
        from .review.views import queue_items

        context.update(queue=queue_items(db), overdue=listing.overdue(db, current_user))
    elif role == "partner":
        context.update(expect=listing.partner_expectation)
    elif role == "admin":
        context.update(counts=listing.stage_counts(db, current_user),
                       versions=len(queries.library_versions(db)),
                       risks=queries.country_risks(db))
    return render_template(f"dashboard/{role}.html", **context)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
