"""Home and dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from workflow import queries

from .db import get_db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    page = queries.list_partnerships(get_db(), current_user, 1, 10)
    return render_template("dashboard/index.html", page=page)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
