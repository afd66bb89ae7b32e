"""Clause pages: choose options and values, the Annex 1 register, preview and rebase."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from contracts.agreement import build_snapshot
from contracts.preview import ASSETS_DIR, PRINT_DIR, render_html
from workflow import agreement_types, queries
from workflow.clauses import spec_of
from workflow.errors import ValidationFailed
from workflow.services import background as register
from workflow.services import clauses as svc
from workflow.services.clauses import find_clause, rebase_plan

from ..db import get_db
from ..form_errors import attach_errors
from .forms import AssetForm, ClauseForm, ConfirmForm

bp = Blueprint("clauses", __name__)
FONTS_DIR = ASSETS_DIR / "fonts"


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def _staff_partnership(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    if not current_user.is_staff:
        abort(403, "Only cluster staff work on the agreement's clauses.")
    return p


@bp.route("/partnerships/<int:partnership_id>/clauses/<clause_key>", methods=["GET", "POST"])
def edit(partnership_id: int, clause_key: str):
    p = _staff_partnership(partnership_id)
    clause = find_clause(p, clause_key)
    spec = spec_of(clause.library_version)
    form = ClauseForm(obj=clause, expected_version=p.version, option=clause.option_key)
    form.option.choices = [SelectChoice(o.key, o.label) for o in spec.options]
    chosen = request.form.get("option", clause.option_key)
    values = _posted_values(chosen)
    errors = {}
    if form.validate_on_submit():
        try:
            svc.set_clause(get_db(), current_user, p.id, clause_key, form.option.data, values,
                           form.override_text.data, form.included.data,
                           expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            errors = dict(exc.field_errors)
            for name in ("included", "override_text"):  # shown next to their own control
                if name in errors:
                    getattr(form, name).errors = [*getattr(form, name).errors, errors.pop(name)]
        else:
            flash(f"{spec.title} saved.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#clauses")
    shown = values if request.method == "POST" else dict(clause.values or {})
    return render_template("clauses/edit.html", p=p, clause=clause, spec=spec, form=form,
                           values=shown, errors=errors), (422 if errors or form.errors else 200)


@bp.get("/partnerships/<int:partnership_id>/preview")
def preview(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    snapshot = build_snapshot(p, agreement_types.label(p.agreement_type))
    html = render_html(snapshot, stylesheet=url_for("clauses.print_css"),
                       draft=p.stage not in ("approved", "signing", "active"))
    return Response(html, mimetype="text/html")


@bp.get("/print/agreement.css")
def print_css():
    return send_file(PRINT_DIR / "agreement.css", mimetype="text/css", max_age=300)


@bp.get("/print/fonts/<name>")
def print_font(name: str):
    """The bundled fonts the print stylesheet names (the screen preview uses them too)."""
    from flask import send_from_directory

    return send_from_directory(FONTS_DIR, name, mimetype="font/ttf", max_age=86400)


@bp.route("/partnerships/<int:partnership_id>/rebase", methods=["GET", "POST"])
def rebase(partnership_id: int):
    p = _staff_partnership(partnership_id)
    form = ConfirmForm(expected_version=p.version)
    if form.validate_on_submit():
        plan = svc.rebase(get_db(), current_user, p.id, form.expected_version.data)
        flash(f"{len(plan)} clause(s) moved to the latest library version.", "success")
        return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#clauses")
    from contracts.diff import word_diff

    plan = rebase_plan(get_db(), p)
    diffs = {c.clause_key: word_diff(c.old_text, c.new_text) for c in plan}
    return render_template("clauses/rebase.html", p=p, plan=plan, diffs=diffs, form=form)


@bp.route("/partnerships/<int:partnership_id>/parties/<int:party_id>/assets/new",
          methods=["GET", "POST"])
def add_asset(partnership_id: int, party_id: int):
    p = _staff_partnership(partnership_id)
    party = next((x for x in p.parties if x.id == party_id), None) or abort(404)
    form = AssetForm(expected_version=p.version)
    if form.validate_on_submit():
        try:
            register.add_asset(get_db(), current_user, p.id, party_id, _asset_input(form),
                               expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash("Background-IP asset added.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#register")
    return render_template("clauses/asset.html", p=p, party=party, form=form, asset=None), (
        422 if form.errors else 200)


@bp.route("/partnerships/<int:partnership_id>/assets/<int:asset_id>", methods=["GET", "POST"])
def edit_asset(partnership_id: int, asset_id: int):
    p = _staff_partnership(partnership_id)
    found = [(party, a) for party in p.parties for a in party.assets if a.id == asset_id]
    party, asset = found[0] if found else abort(404)
    form = AssetForm(obj=asset, expected_version=p.version)
    if form.validate_on_submit():
        try:
            register.update_asset(get_db(), current_user, p.id, asset_id, _asset_input(form),
                                  expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash("Background-IP asset saved.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#register")
    return render_template("clauses/asset.html", p=p, party=party, form=form, asset=asset,
                           delete_form=ConfirmForm(expected_version=p.version)), (
        422 if form.errors else 200)


@bp.post("/partnerships/<int:partnership_id>/assets/<int:asset_id>/delete")
def delete_asset(partnership_id: int, asset_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    register.remove_asset(get_db(), current_user, partnership_id, asset_id,
                          expected_version=form.expected_version.data)
    flash("Background-IP asset removed.", "success")
    return redirect(url_for("partnerships.detail", partnership_id=partnership_id) + "#register")


def _posted_values(option_key: str) -> dict[str, str]:
    """The posted values of one option's variables (inputs are named var_<option>__<name>;
    a checkbox posts after its hidden 'false', so the last value of a name wins)."""
    prefix = f"var_{option_key}__"
    return {name[len(prefix):]: request.form.getlist(name)[-1]
            for name in request.form if name.startswith(prefix)}


def _asset_input(form: AssetForm) -> register.AssetInput:
    return register.AssetInput(
        form.title.data, form.asset_type.data, form.identifiers.data, form.jurisdictions.data,
        form.restrictions.data, form.access_implementation.data, form.access_exploitation.data)

