"""Admin pages (role admin only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from workflow import queries
from workflow.countries import country_name
from workflow.errors import ValidationFailed
from workflow.roles import ORG_KIND_LABELS, USER_ROLES
from workflow.services import risk as svc
from workflow.services import second_factor
from workflow.services import users as user_svc
from workflow.services.organisations import create_organisation

from ..db import get_db
from ..form_errors import attach_errors
from ..routing import id_arg
from .forms import (
    ActiveForm,
    CountryRiskForm,
    OrganisationForm,
    RemoveRiskForm,
    ResetSecondFactorForm,
    RuleForm,
    UserForm,
    UserRoleForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50  # rows of the users and organisations lists


@bp.before_request
@login_required
def _require_admin():
    if current_user.role != "admin":
        abort(403, "Administration is for administrators.")


@bp.get("/")
def index():
    return redirect(url_for("main.dashboard"))


@bp.get("/library")
def library():
    versions = queries.library_versions(get_db())
    return render_template("admin/library.html", versions=versions)


def _risk_form() -> CountryRiskForm:
    form = CountryRiskForm()
    form.tier_key.choices = [SelectChoice(t.key, t.label) for t in queries.risk_tiers(get_db())]
    return form


@bp.route("/risk", methods=["GET", "POST"])
def risk():
    form = _risk_form()
    if form.validate_on_submit():
        try:
            svc.set_country_risk(get_db(), current_user, form.country.data, form.tier_key.data,
                                 form.source.data, form.year.data, form.note.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"{country_name(form.country.data.upper())} saved.", "success")
            return redirect(url_for(".risk"))
    db = get_db()
    return render_template(
        "admin/risk.html", form=form, entries=queries.country_risks(db),
        tiers=queries.risk_tiers(db), rules=queries.safeguard_rules(db),
        remove_form=RemoveRiskForm(), rule_form=RuleForm(),
    ), (422 if form.errors else 200)


@bp.post("/risk/remove")
def remove_risk():
    form = RemoveRiskForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    svc.remove_country_risk(get_db(), current_user, form.country.data, form.tier_key.data)
    flash(f"{form.country.data} removed from the tier.", "success")
    return redirect(url_for(".risk"))


@bp.post("/rules/<rule_key>")
def rule(rule_key: str):
    form = RuleForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    svc.set_rule(get_db(), current_user, rule_key, form.severity.data, form.active.data)
    flash(f"Rule {rule_key} saved.", "success")
    return redirect(url_for(".risk") + "#rules")


def _role_choices():
    return [SelectChoice(r, r.capitalize()) for r in USER_ROLES]


def _org_choices():
    return [SelectChoice(0, "— none —")] + [
        SelectChoice(o.id, f"{o.name} ({o.country})") for o in queries.organisations(get_db())]


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserForm()
    form.role.choices, form.organisation_id.choices = _role_choices(), _org_choices()
    if form.validate_on_submit():
        try:
            user_svc.create_user(get_db(), current_user, form.email.data, form.display_name.data,
                                 form.role.data, form.password.data,
                                 form.organisation_id.data or None)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"User {form.email.data} created.", "success")
            return redirect(url_for(".users"))
    return render_template("admin/users.html", form=form,
                           users=user_svc.list_users(get_db(), _page(), PAGE_SIZE),
                           role_form=UserRoleForm(), active_form=ActiveForm(),
                           reset_form=ResetSecondFactorForm(),
                           roles=USER_ROLES, orgs=queries.organisations(get_db())), (
        422 if form.errors else 200)


@bp.post("/users/<int:user_id>/role")
def user_role(user_id: int):
    form = UserRoleForm()
    form.role.choices, form.organisation_id.choices = _role_choices(), _org_choices()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    user_svc.set_role(get_db(), current_user, user_id, form.role.data,
                      form.organisation_id.data or None)
    flash("Role changed; the user's sessions were ended.", "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    user_svc.set_active(get_db(), current_user, user_id, form.active.data == "1")
    flash("User updated.", "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/second-factor/reset")
def user_second_factor_reset(user_id: int):
    if not ResetSecondFactorForm().validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    user = second_factor.reset(get_db(), current_user, user_id)
    flash(f"Two-factor authentication of {user.email} was reset; their sessions were ended.",
          "success")
    return redirect(url_for(".users"))


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    form = OrganisationForm()
    form.kind.choices = [SelectChoice(k, v) for k, v in ORG_KIND_LABELS.items()]
    if form.validate_on_submit():
        try:
            create_organisation(get_db(), current_user, form.name.data, form.country.data,
                                form.kind.data, form.city.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"{form.name.data} created.", "success")
            return redirect(url_for(".organisations"))
    return render_template("admin/organisations.html", form=form,
                           orgs=queries.organisation_page(get_db(), _page(), PAGE_SIZE)), (
        422 if form.errors else 200)


def _page() -> int:
    """The page asked for in ?page= (1 when absent or not a number)."""
    return request.args.get("page", 1, type=id_arg)
