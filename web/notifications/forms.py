"""Forms of the notification pages (every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class MarkReadForm(FlaskForm):
    """A button that marks one or all notifications read; only the CSRF token is posted."""


def email_field(kind: str) -> str:
    return f"email_{kind}"


def preferences_form(kinds: dict[str, str], choices: dict[str, bool]) -> FlaskForm:
    """A form with one checkbox per notification kind, checked when email is on."""

    class PreferencesForm(FlaskForm):
        submit = SubmitField("Save email choices")

    for kind, label in kinds.items():
        setattr(PreferencesForm, email_field(kind), BooleanField(label, default=choices[kind]))
    return PreferencesForm()
