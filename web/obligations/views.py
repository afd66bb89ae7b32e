"""Publication notices and objections; the clocks section of the partnership page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from workflow import queries
from workflow.errors import ValidationFailed
from workflow.models import utcnow
from workflow.services import publications as svc
from workflow.services.obligations import complete_obligation, may_complete, partnership_clocks

from ..db import get_db
from ..form_errors import attach_errors
from .forms import DoneForm, ObjectionForm, PublicationForm

bp = Blueprint("obligations", __name__, url_prefix="/partnerships/<int:partnership_id>")


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def clocks_section(db, p) -> dict:
    """What the "Obligations and clocks" section of the partnership page shows."""
    obligations, publications = partnership_clocks(db, p.id)
    today = utcnow().date()
    parties = svc.acting_parties(p, current_user)
    return {"clocks": obligations, "publications": publications, "today": today,
            "may_publish": bool(parties) and svc.notice_dates(p, today) is not None,
            "objectable": {pub.id for pub in publications
                           if today <= pub.objection_deadline and _objectors(pub, parties)},
            "completable": {o.id for o in obligations if may_complete(current_user, p, o)},
            "done_form": DoneForm()}


def _objectors(pub, parties) -> list:
    """The parties (of those the user acts for) that may still object to `pub`."""
    objected = {o.party_id for o in pub.objections}
    return [x for x in parties if x.id != pub.party_id and x.id not in objected]


def _choices(parties) -> list[SelectChoice]:
    return [SelectChoice(party.id, f"{party.organisation.name} ({party.role})")
            for party in parties]


@bp.route("/publications/new", methods=["GET", "POST"])
def new_publication(partnership_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    dates = svc.notice_dates(p, utcnow().date())
    parties = svc.acting_parties(p, current_user)
    if dates is None or not parties:
        abort(409 if dates is None else 403)
    form = PublicationForm()
    form.party_id.choices = _choices(parties)
    if form.validate_on_submit():
        try:
            pub = svc.register_publication(db, current_user, p.id, form.party_id.data,
                                           form.title.data, form.planned_on.data,
                                           form.venue.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"Notice given: the other parties may object until "
                  f"{pub.objection_deadline.isoformat()}.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#obligations")
    return render_template("obligations/publication.html", p=p, form=form, dates=dates), (
        422 if form.errors else 200)


@bp.route("/publications/<int:publication_id>/objections/new", methods=["GET", "POST"])
def new_objection(partnership_id: int, publication_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    _obligations, publications = partnership_clocks(db, p.id)
    pub = next((x for x in publications if x.id == publication_id), None) or abort(404)
    parties = _objectors(pub, svc.acting_parties(p, current_user))
    if not parties:
        abort(403)
    form = ObjectionForm()
    form.party_id.choices = _choices(parties)
    if form.validate_on_submit():
        try:
            svc.record_objection(db, current_user, p.id, pub.id, form.party_id.data,
                                 form.reason.data, form.requested_change.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"Objection recorded; {pub.party.organisation.name} is notified.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#obligations")
    return render_template("obligations/objection.html", p=p, pub=pub, form=form), (
        422 if form.errors else 200)


@bp.post("/obligations/<int:obligation_id>/done")
def mark_done(partnership_id: int, obligation_id: int):
    if not DoneForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    row = complete_obligation(get_db(), current_user, partnership_id, obligation_id)
    flash(f"Marked done: {row.title}.", "success")
    return redirect(url_for("partnerships.detail", partnership_id=partnership_id)
                    + "#obligations")
