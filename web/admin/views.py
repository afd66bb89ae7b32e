"""Admin pages (role admin only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from workflow import queries
from workflow.countries import country_name
from workflow.errors import ValidationFailed
from workflow.services import risk as svc

from ..db import get_db
from .forms import CountryRiskForm, RemoveRiskForm, RuleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_admin():
    if current_user.role != "admin":
        abort(403, "Administration is for administrators.")


@bp.get("/")
def index():
    return redirect(url_for(".library"))


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
            for name, message in exc.field_errors.items():
                getattr(form, name, form.country).errors.append(message)
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
