"""Login and logout (POST only, with CSRF)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from workflow.services import users

from ..db import get_db
from ..extensions import login_manager
from .forms import LoginForm, LogoutForm
from .principal import Principal, parse_identity, safe_next

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(identity: str):
    parsed = parse_identity(identity)
    if parsed is None:
        return None
    user = users.load_user_for_session(get_db(), *parsed)
    return Principal(user) if user else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if form.validate_on_submit():
        user = users.authenticate(get_db(), form.email.data, form.password.data)
        if user is None:
            flash("Email or password is incorrect.", "error")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session on login: no fixation of a pre-login cookie
        login_user(Principal(user))
        flash(f"Welcome, {user.display_name}.", "success")
        return redirect(safe_next(form.next.data) or url_for("main.dashboard"))
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        users.logout(get_db(), current_user.user)
        logout_user()
        session.clear()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
