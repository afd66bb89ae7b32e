"""The calendar feed (GET /calendar/<token>.ics, no session) and the account page that
creates, re-creates and revokes the user's secret address."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from workflow.models import utcnow
from workflow.services import calendar as svc

from ..db import get_db
from .ics import to_ics

bp = Blueprint("calendar", __name__)


class FeedForm(FlaskForm):
    submit = SubmitField("Create a calendar address")


@bp.get("/account/calendar")
@login_required
def account():
    return render_template("calendar/account.html", feed=svc.active_feed(get_db(), current_user),
                           form=FeedForm(), url=None)


@bp.post("/account/calendar")
@login_required
def create():
    if not FeedForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    issued = svc.create_feed(get_db(), current_user)
    # The address is the secret and only its hash is stored: it is shown in this response
    # once, not carried through a redirect in the session cookie.
    url = _base_url() + url_for(".feed", token=issued.secret)
    return render_template("calendar/account.html", feed=issued.record, form=FeedForm(),
                           url=url)


@bp.post("/account/calendar/revoke")
@login_required
def revoke():
    if not FeedForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    if svc.revoke_feed(get_db(), current_user):
        flash("Calendar address revoked: calendars subscribed to it get nothing more.",
              "success")
    return redirect(url_for(".account"))


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    db, now = get_db(), utcnow()
    user = svc.feed_user(db, token)
    if user is None:
        abort(404)
    body = to_ics(svc.feed_events(db, user, now.date()), _base_url(), now,
                  f"ClusterPact: {user.display_name}")
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = 'inline; filename="clusterpact.ics"'
    return response


def _base_url() -> str:
    return current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
