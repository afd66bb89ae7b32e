"""Login in two steps (password, then the second factor when the user has one), and logout
(POST only, with CSRF). Account pages are in account.py, the session rules in policy.py."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflow.services import login as login_svc
from workflow.services import users
from workflow.services.second_factor import INVALID_CODE
from workflow.services.throttle import Throttled

from ..db import get_db
from ..errors import render_error
from ..extensions import login_manager
from . import policy
from .forms import LoginCodeForm, LoginForm, LogoutForm
from .principal import Principal, parse_identity, safe_next

bp = Blueprint("auth", __name__)
bp.before_app_request(policy.enforce)
BAD_CREDENTIALS = "Email or password is incorrect."


@login_manager.user_loader
def load_user(identity: str):
    parsed = parse_identity(identity)
    if parsed is None:
        return None
    user = users.load_user_for_session(get_db(), *parsed)
    return Principal(user) if user else None


@bp.app_errorhandler(Throttled)
def throttled(error: Throttled):
    body, status = render_error(429, "Too many attempts", _wait_message(error))
    return body, status, {"Retry-After": str(error.retry_after)}


def _wait_message(error: Throttled) -> str:
    minutes = max(1, -(-error.retry_after // 60))
    return (f"Too many failed attempts for this account or from your network. Try again in "
            f"{minutes} minute{'s' if minutes > 1 else ''}.")


def _refuse(template: str, form, message: str, status: int, headers=None):
    form.form_errors.append(message)
    return render_template(template, form=form), status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), (422 if form.errors else 200)
    try:
        user = login_svc.check_password(get_db(), form.email.data, form.password.data,
                                        request.remote_addr)
    except Throttled as exc:
        return _refuse("auth/login.html", form, _wait_message(exc), 429,
                       {"Retry-After": str(exc.retry_after)})
    except login_svc.BadCredentials:
        return _refuse("auth/login.html", form, BAD_CREDENTIALS, 401)
    if user.totp_enabled:
        policy.begin_pending(user, safe_next(form.next.data))
        return redirect(url_for(".login_code"))
    return _finish(user, safe_next(form.next.data))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = policy.pending_login()
    user = pending and users.load_user_for_session(get_db(), pending.user_id, pending.token)
    if not user:
        flash("Log in again: the login was not completed in time.", "info")
        return redirect(url_for(".login"))
    form = LoginCodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form), (422 if form.errors else 200)
    try:
        user = login_svc.check_second_factor(get_db(), policy.secret_box(), user,
                                             form.code.data, request.remote_addr)
    except Throttled as exc:
        return _refuse("auth/code.html", form, _wait_message(exc), 429,
                       {"Retry-After": str(exc.retry_after)})
    except login_svc.BadCredentials:
        return _refuse("auth/code.html", form, INVALID_CODE, 401)
    return _finish(user, pending.next)


def _finish(user, target: str | None):
    user = login_svc.complete(get_db(), user)
    policy.start_session(user)  # a fresh session on login: no fixation of a pre-login cookie
    flash(f"Welcome, {user.display_name}.", "success")
    return redirect(target or url_for("main.dashboard"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        users.logout(get_db(), current_user.user)
        policy.end_session()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
