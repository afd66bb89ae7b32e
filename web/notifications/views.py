"""The notifications list, read marks and email preferences of the logged-in user."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from workflow.notifications import KINDS
from workflow.services import inbox

from ..db import get_db
from ..routing import id_arg
from .forms import MarkReadForm, email_field, preferences_form

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


@bp.app_context_processor
def _bell():
    def unread_notifications() -> str:
        """The bell's number: '' when nothing is unread, '99+' beyond the cap."""
        try:
            count = inbox.unread_count(get_db(), current_user.id)
        except SQLAlchemyError:  # an error page while the database is down still renders
            get_db().rollback()
            return ""
        return "" if not count else (f"{inbox.BELL_CAP}+" if count > inbox.BELL_CAP
                                     else str(count))

    return {"unread_notifications": unread_notifications}


@bp.get("/")
def index():
    before = request.args.get("before", type=id_arg)
    rows, next_before = inbox.page(get_db(), current_user.id, before=before,
                                   size=_page_size())
    return render_template("notifications/index.html", rows=rows, next_before=next_before,
                           before=before, form=MarkReadForm(), kinds=KINDS)


def _page_size() -> int:
    from flask import current_app

    return int(current_app.config.get("PAGE_SIZE", 25))


def _back() -> str:
    before = request.args.get("before", type=id_arg)
    return url_for(".index", before=before) if before else url_for(".index")


@bp.post("/<int:notification_id>/read")
def read(notification_id: int):
    if not MarkReadForm().validate_on_submit():
        abort(400)
    inbox.mark_read(get_db(), current_user, notification_id)
    flash("Marked as read.", "success")
    return redirect(_back() + f"#n{notification_id}")


@bp.post("/read-all")
def read_all():
    if not MarkReadForm().validate_on_submit():
        abort(400)
    count = inbox.mark_all_read(get_db(), current_user)
    flash(f"{count} notification(s) marked as read.", "success")
    return redirect(url_for(".index"))


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    db = get_db()
    form = preferences_form(KINDS, inbox.email_choices(db, current_user.id))
    if form.validate_on_submit():
        inbox.set_email_choices(db, current_user, {
            kind: bool(form[email_field(kind)].data) for kind in KINDS})
        flash("Your email choices are saved.", "success")
        return redirect(url_for(".preferences"))
    fields = [form[email_field(kind)] for kind in KINDS]
    return render_template("notifications/preferences.html", form=form, fields=fields), (
        400 if form.errors else 200)
