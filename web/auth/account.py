"""The user's own security settings: password, two-factor authentication, recovery codes.

Recovery codes are shown once, in the answer to the POST that made them (never stored in
clear, never in a redirect or the session).
"""

from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflow import totp
from workflow.errors import ValidationFailed
from workflow.models import User
from workflow.services import second_factor, throttle, users

from ..db import get_db
from ..form_errors import attach_errors
from . import policy
from .forms import (
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    PasswordForm,
    RecoveryCodesForm,
    StartTwoFactorForm,
)
from .views import bp


@bp.get("/account/security")
@login_required
def security():
    return render_template(
        "auth/security.html", user=current_user,
        required=second_factor.required(current_user, policy.second_factor_roles()),
        remaining=second_factor.remaining_recovery_codes(get_db(), current_user),
        codes_form=RecoveryCodesForm(), disable_form=DisableTwoFactorForm())


@bp.get("/account/two-factor")
@login_required
def two_factor():
    if current_user.totp_enabled:
        return redirect(url_for(".security"))
    return _setup_page(ConfirmTwoFactorForm())


def _setup_page(form, status: int = 200):
    secret = second_factor.pending_secret(current_user.user, policy.secret_box())
    qr = None
    if secret:
        uri = totp.provisioning_uri(secret, current_user.email)
        qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) if secret else None
    required = second_factor.required(current_user, policy.second_factor_roles())
    return render_template("auth/two_factor.html", secret=grouped, qr=qr, form=form,
                           start_form=StartTwoFactorForm(), required=required), status


@bp.post("/account/two-factor/start")
@login_required
def two_factor_start():
    if not StartTwoFactorForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    second_factor.begin_enrolment(get_db(), current_user, policy.secret_box())
    return redirect(url_for(".two_factor"))


@bp.post("/account/two-factor/confirm")
@login_required
def two_factor_confirm():
    form = ConfirmTwoFactorForm()
    if not form.validate_on_submit():
        return _setup_page(form, 422)
    try:
        codes = second_factor.confirm_enrolment(get_db(), current_user, policy.secret_box(),
                                                form.code.data)
    except ValidationFailed as exc:
        attach_errors(form, exc)
        return _setup_page(form, 422)
    policy.keep_session(_reload())
    flash("Two-factor authentication is on.", "success")
    return _codes_page(codes)


@bp.post("/account/two-factor/recovery-codes")
@login_required
def recovery_codes():
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(
                get_db(), current_user, policy.secret_box(), form.code.data,
                request.remote_addr)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            return _codes_page(codes)
    return _security_with(codes_form=form)


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            second_factor.disable(get_db(), current_user, policy.secret_box(), form.code.data,
                                  policy.second_factor_roles(), request.remote_addr)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            policy.keep_session(_reload())
            flash("Two-factor authentication is off.", "success")
            return redirect(url_for(".security"))
    return _security_with(disable_form=form)


def _security_with(**forms):
    context = {"codes_form": RecoveryCodesForm(), "disable_form": DisableTwoFactorForm(),
               **forms}
    return render_template(
        "auth/security.html", user=current_user,
        required=second_factor.required(current_user, policy.second_factor_roles()),
        remaining=second_factor.remaining_recovery_codes(get_db(), current_user),
        **context), 422


def _codes_page(codes: list[str]):
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        db, email, address = get_db(), current_user.email, request.remote_addr
        throttle.take(db, email, address)  # counted before the current password is checked
        try:
            user = users.change_password(db, current_user, form.current_password.data,
                                         form.new_password.data)
        except ValidationFailed as exc:
            if "current_password" not in exc.field_errors:
                throttle.give_back(db, email, address)  # the password was right
            attach_errors(form, exc)
        else:
            throttle.give_back(db, email, address)
            policy.keep_session(user)
            flash("Your password was changed; your other sessions have ended.", "success")
            return redirect(url_for(".security"))
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)


def _reload() -> User:
    """The current user as stored now (after a service rotated their session token)."""
    return get_db().get(User, current_user.id, populate_existing=True)
