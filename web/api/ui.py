"""The "API tokens" page: a logged-in user lists and revokes their own tokens.

A browser page like the others (session login, CSRF-checked forms); it is not part of the
CSRF-exempt API blueprint.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from workflow.models import utcnow
from workflow.services import tokens

from ..db import get_db

ui = Blueprint("tokens", __name__, url_prefix="/account")


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoke")


@ui.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


@ui.get("/api-tokens")
def index():
    return render_template("api/tokens.html", tokens=tokens.user_tokens(get_db(), current_user),
                           now=utcnow(), form=RevokeForm())


@ui.post("/api-tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    token = tokens.revoke_token(get_db(), current_user, token_id)
    flash(f"Token {token.hint}… revoked: scripts using it can no longer call the API.",
          "success")
    return redirect(url_for(".index"))
